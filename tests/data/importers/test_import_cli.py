from native_layouts import make_gtzan

from sept_ray.cli import main


def test_import_command_reports_the_skipped_file(tmp_path, capsys):
    make_gtzan(tmp_path / "src")
    assert (
        main(["data", "import", "GT-Music-Genre", str(tmp_path / "src"), str(tmp_path / "out")])
        == 0
    )
    captured = capsys.readouterr()
    assert captured.out.strip().endswith("GT-Music-Genre: 50 clips (50 hardlink), 1 fold(s)")
    assert "sept: warning: GT-Music-Genre: 1 native file(s) left out:" in captured.err
    assert "jazz.00054.wav: known corrupt file of the Kaggle GTZAN copy" in captured.err
    assert main(["data", "check", str(tmp_path / "out/GT-Music-Genre")]) == 0


def test_import_command_errors_name_the_folder(tmp_path, capsys):
    assert main(["data", "import", "SESA", str(tmp_path / "nowhere"), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"sept: error: {tmp_path / 'nowhere'}: source folder not found; expected SESA"
    )
