import pytest

from sept_ray.backbones import BACKBONES
from sept_ray.methods import METHODS
from sept_ray.registry import Registry


def test_register_get_and_list():
    reg = Registry("widget")
    reg.register("b")(2)
    reg.register("a")(1)
    assert reg.get("a") == 1 and reg.names() == ["a", "b"] and "b" in reg


def test_duplicate_and_unknown_names_are_errors():
    reg = Registry("widget")
    reg.register("a")(1)
    with pytest.raises(ValueError, match="widget 'a' is already registered"):
        reg.register("a")(2)
    with pytest.raises(KeyError, match=r"unknown widget 'c' \(known: a\)"):
        reg.get("c")


def test_builtin_registrations():
    assert {"zeroshot", "coop"} <= set(METHODS.names())
    assert "tiny-alm" in BACKBONES
