from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from sept_ray.backbones.state_dicts import (
    load_strict,
    read_state_dict,
    strip_prefix,
    unwrap_module,
)


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(3, 2)
        self.bn = nn.BatchNorm1d(2)
        self.register_buffer("position_ids", torch.arange(4))


def test_read_state_dict_formats(tmp_path):
    state = Net().state_dict()
    torch.save({"model": state}, tmp_path / "a.pth")
    torch.save({"state_dict": state}, tmp_path / "b.ckpt")
    torch.save(state, tmp_path / "c.pt")
    save_file(state, tmp_path / "d.safetensors")
    for name in ("a.pth", "b.ckpt", "c.pt", "d.safetensors"):
        read = read_state_dict(tmp_path / name)
        assert read.keys() == state.keys() and all(torch.equal(read[k], state[k]) for k in state)


def test_pickled_extras_need_explicit_trust(tmp_path):
    path = tmp_path / "with_args.pth"
    torch.save({"model": Net().state_dict(), "args": argparse.Namespace(lr=1)}, path)
    with pytest.raises(ValueError, match="allow_pickle=True"):
        read_state_dict(path)
    assert "fc.weight" in read_state_dict(path, allow_pickle=True)
    torch.save({"model": [1, 2]}, tmp_path / "odd.pth")
    with pytest.raises(ValueError, match="not a state dict"):
        read_state_dict(tmp_path / "odd.pth")


class TouchOnLoad:
    """Unpickling this object calls ``Path(marker).touch()``: the shape of a malicious checkpoint."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_checkpoint_that_would_run_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "MARKER"
    path = tmp_path / "evil.pth"
    torch.save({"model": Net().state_dict(), "hook": TouchOnLoad(marker)}, path)
    with pytest.raises(ValueError, match=rf"^{re.escape(str(path))}: holds pickled objects"):
        read_state_dict(path)
    assert not marker.exists()
    # control: a full unpickle of the same file does run the payload
    torch.load(path, weights_only=False)
    assert marker.exists()


def test_prefix_helpers():
    state = {"module.a.x": 1, "module.b.y": 2, "c": 3}
    assert unwrap_module(state) == {"a.x": 1, "b.y": 2, "c": 3}
    assert strip_prefix(unwrap_module(state), "a.") == {"x": 1}


def test_harmless_buffers_tolerated_everything_else_named():
    net, source = Net(), Net()
    state = source.state_dict()
    del state["bn.num_batches_tracked"], state["position_ids"]  # derived / stale: fine
    state["text.embeddings.position_ids"] = torch.arange(3)  # stale extra: fine
    load_strict(net, state, source="ok.pth")
    assert torch.equal(net.fc.weight, source.fc.weight)

    bad = dict(state)
    del bad["fc.bias"]
    bad["fc.extra"] = torch.zeros(1)
    bad["bn.running_mean"] = torch.zeros(5)
    with pytest.raises(ValueError) as error:
        load_strict(Net(), bad, source="bad.pth")
    message = str(error.value)
    assert message.startswith("bad.pth: does not fit Net;")
    assert "missing keys (1): fc.bias" in message
    assert "unexpected keys (1): fc.extra" in message
    assert "bn.running_mean (5,) != (2,)" in message
    # a missing *parameter* is never harmless, whatever its name
    no_weight = dict(state)
    del no_weight["bn.weight"]
    with pytest.raises(ValueError, match=r"missing keys \(1\): bn.weight"):
        load_strict(Net(), no_weight, source="x")
