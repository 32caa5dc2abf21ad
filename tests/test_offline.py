import pytest

from sept_ray.offline import OFFLINE_ENV, is_offline


@pytest.mark.parametrize(
    "sept, hf, expected",
    [("", "", False), ("1", "", True), ("", "true", True), ("YES", "", True), ("0", "no", False)],
)
def test_either_switch_turns_downloads_off(monkeypatch, sept, hf, expected):
    monkeypatch.setenv(OFFLINE_ENV, sept)
    monkeypatch.setenv("HF_HUB_OFFLINE", hf)
    assert is_offline() is expected
