import os
from pathlib import Path

import pytest
from native_layouts import make_beijing_opera, make_sesa, write_wav

from sept_ray.data.importers import IMPORTERS, import_dataset
from sept_ray.data.importers.plan import Fold, ImportPlan, Item, NativeLayoutError
from sept_ray.data.importers.writer import write_palm
from sept_ray.data.manifest import load_split

SHM = Path("/dev/shm")


def test_existing_folder_needs_force_and_is_then_replaced(tmp_path):
    make_sesa(tmp_path / "src")
    import_dataset("SESA", tmp_path / "src", tmp_path / "out")
    (tmp_path / "out/SESA/stale.txt").write_text("old")
    with pytest.raises(ValueError, match="SESA exists: pass --force"):
        import_dataset("SESA", tmp_path / "src", tmp_path / "out")
    import_dataset("SESA", tmp_path / "src", tmp_path / "out", force=True)
    assert not (tmp_path / "out/SESA/stale.txt").exists()
    assert len(load_split(tmp_path / "out", "SESA").test) == 4
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["SESA"]  # nothing set aside


def test_refuses_an_out_root_inside_the_source(tmp_path):
    src = make_sesa(tmp_path / "src")
    with pytest.raises(NativeLayoutError, match="inside the source"):
        import_dataset("SESA", src, src / "out")
    assert not (src / "out").exists()


def test_never_replaces_its_own_source(tmp_path):
    src = make_beijing_opera(tmp_path / "Beijing-Opera")  # src = <tmp>/Beijing-Opera/beijing_opera
    with pytest.raises(NativeLayoutError, match="holds the source"):
        import_dataset("Beijing-Opera", src, tmp_path, force=True)
    assert len(list(src.glob("*.wav"))) == 20


def test_missing_native_file_is_an_error_and_leaves_nothing(tmp_path):
    src = make_sesa(tmp_path / "src")
    gone = Item(src / "train/casual_999.wav", "audios/train/casual_999.wav", "casual")
    plan = IMPORTERS.get("SESA").plan(src)
    plan = ImportPlan(
        plan.name, plan.source, (Fold(plan.folds[0].train + (gone,), plan.folds[0].test),)
    )
    with pytest.raises(
        NativeLayoutError, match=r"1 file\(s\) named by the native metadata are missing"
    ):
        write_palm(plan, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_wrong_classes_and_clashing_targets_are_errors(tmp_path):
    src = tmp_path / "src"
    a, b = write_wav(src / "a.wav", 16000), write_wav(src / "b.wav", 16000)
    fold = Fold(
        train=(Item(a, "audios/x.wav", "casual"),), test=(Item(b, "audios/x.wav", "siren"),)
    )
    with pytest.raises(NativeLayoutError, match="would both be audios/x.wav"):
        write_palm(ImportPlan("SESA", src, (fold,)), tmp_path / "out")
    fold = Fold(
        train=(Item(a, "audios/a.wav", "casual"),), test=(Item(b, "audios/b.wav", "alarm"),)
    )
    with pytest.raises(
        NativeLayoutError,
        match=r"unexpected \['alarm'\], absent \['explosion', 'gunshot', 'siren'\]",
    ):
        write_palm(ImportPlan("SESA", src, (fold,)), tmp_path / "out")


def test_unknown_dataset_and_mode(tmp_path):
    with pytest.raises(KeyError, match="unknown importer 'Nope'"):
        import_dataset("Nope", tmp_path, tmp_path / "out")
    make_sesa(tmp_path / "src")
    with pytest.raises(ValueError, match="mode = 'move'"):
        import_dataset("SESA", tmp_path / "src", tmp_path / "out", mode="move")


@pytest.mark.skipif(not (SHM.is_dir() and os.access(SHM, os.W_OK)), reason="no writable /dev/shm")
def test_hardlink_falls_back_to_copy_across_filesystems(tmp_path):
    import tempfile

    with tempfile.TemporaryDirectory(dir=SHM) as other:
        if os.stat(other).st_dev == os.stat(tmp_path).st_dev:
            pytest.skip("/dev/shm is on the same filesystem as the test folder")
        make_sesa(Path(other))
        result = import_dataset("SESA", Path(other) / "SESA", tmp_path / "out")
    assert result.placed == {"copy": 16}
    assert len(load_split(tmp_path / "out", "SESA").train) == 12
