from pathlib import Path

import pytest

from sept_ray.data.importers.plan import (
    Item,
    NativeLayoutError,
    find_root,
    folds_from_ids,
    speaker_split,
    stratified_folds,
    tail_split,
)


def items(counts: dict[str, int]) -> list[Item]:
    return [
        Item(Path(f"/src/{c}{i}.wav"), f"audios/{c}{i:02d}.wav", c)
        for c, n in counts.items()
        for i in range(n)
    ]


def test_stratified_folds_spread_classes_and_balance_sizes():
    pool = items({"a": 12, "b": 7, "c": 3})
    folds = stratified_folds(pool, 5, seed=0)
    sizes = [len(f.test) for f in folds]
    assert sum(sizes) == 22 and max(sizes) - min(sizes) <= 1
    for name, n in (("a", 12), ("b", 7), ("c", 3)):
        per_fold = [sum(i.classname == name for i in f.test) for f in folds]
        assert max(per_fold) - min(per_fold) <= 1 and sum(per_fold) == n
    for fold in folds:
        assert len(fold.train) + len(fold.test) == 22
        assert {i.target for i in fold.train}.isdisjoint({i.target for i in fold.test})
    assert folds == stratified_folds(list(reversed(pool)), 5, seed=0)  # input order is irrelevant
    assert folds != stratified_folds(pool, 5, seed=1)


def test_speaker_split_holds_out_every_fifth_sorted_speaker():
    pool = items({f"{k:02d}": 2 for k in range(1, 13)})  # speakers 01..12, 2 clips each
    pairs = [(item, item.classname) for item in pool]
    fold, note = speaker_split(pairs)
    test_speakers = {s for i, s in pairs if i in fold.test}
    assert test_speakers == {"01", "06", "11"} and len(fold.test) == 6 and len(fold.train) == 18
    assert "3 speakers: 01, 06, 11" in note
    with pytest.raises(NativeLayoutError, match="at least 2 speakers"):
        speaker_split([(i, "01") for i, _ in pairs])


def test_tail_split_takes_the_last_fifth_of_each_class():
    fold = tail_split(items({"a": 10, "b": 3}), 0.2)
    assert [i.target for i in fold.test] == ["audios/a08.wav", "audios/a09.wav", "audios/b02.wav"]
    assert len(fold.train) == 10


def test_fold_ids_must_be_in_range():
    item = items({"a": 1})[0]
    with pytest.raises(NativeLayoutError, match="fold 6 is outside 1..5"):
        folds_from_ids([(item, 6)], 5)


def test_find_root_looks_into_subfolders_once(tmp_path):
    (tmp_path / "outer/inner/meta").mkdir(parents=True)
    (tmp_path / "outer/inner/meta/x.csv").write_text("")
    assert find_root(tmp_path, "meta/x.csv", "X") == tmp_path / "outer/inner"
    (tmp_path / "other/meta").mkdir(parents=True)
    (tmp_path / "other/meta/x.csv").write_text("")
    with pytest.raises(NativeLayoutError, match="found in several folders"):
        find_root(tmp_path, "meta/x.csv", "X")
