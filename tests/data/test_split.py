import pytest

from sept_ray.data.manifest import Clip
from sept_ray.data.split import FewShotWarning, base_new_split, sample_few_shot


def test_base_is_first_ceil_half():
    split = base_new_split(["a", "b", "c", "d", "e"])
    assert split.base == ("a", "b", "c") and split.new == ("d", "e")
    assert base_new_split(["a", "b"]).base == ("a",)
    with pytest.raises(ValueError, match="sorted"):
        base_new_split(["b", "a"])
    with pytest.raises(ValueError, match="at least 2"):
        base_new_split(["a"])


def clips(per_class):
    return [Clip(f"{c}/{i}.wav", c) for c, k in per_class.items() for i in range(k)]


def test_sample_is_seeded_and_per_class():
    pool = clips({"a": 30, "b": 30})
    first = sample_few_shot(pool, ["a", "b"], 16, seed=0)
    assert len(first) == 32 and sum(c.classname == "a" for c in first) == 16
    assert first == sample_few_shot(pool, ["a", "b"], 16, seed=0)
    assert first != sample_few_shot(pool, ["a", "b"], 16, seed=1)
    assert len(set(first)) == 32


def test_seed_zero_is_a_seed():
    pool = clips({"a": 30})
    assert sample_few_shot(pool, ["a"], 5, 0) != sample_few_shot(pool, ["a"], 5, 2)


def test_small_class_gives_all_clips_with_warning():
    pool = clips({"a": 30, "b": 3})
    with pytest.warns(FewShotWarning, match="'b' has 3 training clips"):
        sample = sample_few_shot(pool, ["a", "b"], 16, seed=0)
    assert sum(c.classname == "b" for c in sample) == 3


def test_class_without_clips_is_an_error():
    with pytest.raises(ValueError, match="class 'z' has no training clips"):
        sample_few_shot(clips({"a": 3}), ["a", "z"], 2, seed=0)
