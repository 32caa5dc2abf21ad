import pytest

from sept_ray.data.manifest import (
    ManifestError,
    all_clip_paths,
    count_folds,
    load_split,
    manifest_hash,
)

from conftest import write_csv, write_tone_dataset


def test_single_fold_layout(tone_root):
    split = load_split(tone_root, "Tones")
    assert split.classes == ("alpha", "beta", "delta", "gamma")
    assert len(split.train) == 24 and len(split.test) == 12 and split.fold == 1
    assert count_folds(split.root) == 1


def test_multi_fold_layout_uses_csv_files(tmp_path):
    folder = write_tone_dataset(tmp_path, "Folds", ["a", "b"], 4, 2, folds=3)
    assert count_folds(folder) == 3
    first, third = load_split(tmp_path, "Folds", 1), load_split(tmp_path, "Folds", 3)
    assert {c.path for c in first.test}.isdisjoint({c.path for c in third.test})
    assert len(first.train) + len(first.test) == 12
    with pytest.raises(ManifestError, match="fold 4 requested, the dataset has 3"):
        load_split(tmp_path, "Folds", 4)
    assert len(all_clip_paths(folder)) == 12


def test_classes_sort_case_sensitively(tmp_path):
    write_tone_dataset(tmp_path, "Case", ["Sigh", "cough", "Laughter"], 2, 1)
    assert load_split(tmp_path, "Case").classes == ("Laughter", "Sigh", "cough")


def test_missing_folder_csv_and_columns(tone_root):
    with pytest.raises(ManifestError, match="Nope: dataset folder not found"):
        load_split(tone_root, "Nope")
    (tone_root / "Tones" / "test.csv").unlink()
    with pytest.raises(ManifestError, match="test.csv: CSV file not found"):
        load_split(tone_root, "Tones")
    (tone_root / "Tones" / "test.csv").write_text("file,label\na.wav,alpha\n")
    with pytest.raises(ManifestError, match="test.csv: missing column\\(s\\) path, classname"):
        load_split(tone_root, "Tones")


def test_row_pointing_to_missing_file_is_named(tone_root):
    write_csv(tone_root / "Tones" / "test.csv", [("audios/alpha/999.wav", "alpha")])
    with pytest.raises(ManifestError, match=r"test.csv: row 'audios/alpha/999.wav' -> file"):
        load_split(tone_root, "Tones")


def test_empty_field_names_the_line(tone_root):
    (tone_root / "Tones" / "test.csv").write_text("path,classname\naudios/alpha/000.wav,\n")
    with pytest.raises(ManifestError, match="test.csv:2: empty path or classname"):
        load_split(tone_root, "Tones")


def test_class_without_test_clips_is_an_error(tone_root):
    rows = [(f"audios/alpha/{i:03d}.wav", "alpha") for i in range(6, 9)]
    write_csv(tone_root / "Tones" / "test.csv", rows)
    with pytest.raises(ManifestError, match="class\\(es\\) with no clips: beta, delta, gamma"):
        load_split(tone_root, "Tones")


def test_manifest_hash_tracks_content(tone_root):
    folder = tone_root / "Tones"
    before = manifest_hash(folder)
    assert manifest_hash(folder) == before
    clip = folder / "audios/alpha/000.wav"
    clip.write_bytes(clip.read_bytes()[:-2] + b"\x01\x02")
    assert manifest_hash(folder) != before


def test_csv_with_byte_order_mark(tone_root):
    path = tone_root / "Tones" / "test.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_split(tone_root, "Tones").test) == 12
