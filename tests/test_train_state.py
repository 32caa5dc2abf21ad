"""A trial continued from a saved training state gives the numbers of an uninterrupted trial;
a state that does not fit is refused, naming the file and the keys, and changes nothing."""

from dataclasses import asdict

import pytest
import torch
from safetensors.torch import load_file, save_file
from test_train import config

from sept_ray.train import run_trial
from sept_ray.train_state import TENSORS_FILE, TrainState, TrainStateError, config_hash

from conftest import write_bank

CLASSES = ["alpha", "beta", "delta", "gamma"]


def without_seconds(history):
    return [{k: v for k, v in asdict(m).items() if k != "seconds"} for m in history]


@pytest.mark.parametrize(
    ("method", "sept"),
    [("coop", False), ("cocoop", False), ("kgcoop", True), ("dept", True)],
)
def test_a_trial_continued_from_epoch_2_matches_the_uninterrupted_trial(
    tmp_path, tone_root, small_weights, method, sept
):
    bank = write_bank(tmp_path / "bank.json", ["Tones"], CLASSES)
    sections = {
        "method": {"name": method, "n_ctx": 4},
        "train": {"epochs": 4, "batch_size": 4, "seed": 3},
        "sept": {"enabled": sept, "bank": str(bank), "n_neighbors": 3, "sample_neighbors": 2},
    }
    cfg = config(tmp_path / "whole", tone_root, small_weights, **sections)
    saved = tmp_path / "state"

    def keep_epoch_2(metrics, state):
        if metrics.epoch == 2:
            state.save(saved)

    whole = run_trial(cfg, on_epoch=keep_epoch_2)
    cfg_rest = config(tmp_path / "rest", tone_root, small_weights, **sections)
    seen = []
    rest = run_trial(cfg_rest, on_epoch=lambda m, _s: seen.append(m.epoch), resume_from=saved)
    assert seen == [3, 4]  # epochs 1 and 2 came from the state, not trained again
    assert without_seconds(rest.history) == without_seconds(whole.history)
    assert (rest.base, rest.new, rest.h) == (whole.base, whole.new, whole.h)
    prompt_whole = load_file(str(whole.output_dir / "prompt.safetensors"))
    prompt_rest = load_file(str(rest.output_dir / "prompt.safetensors"))
    assert prompt_whole.keys() == prompt_rest.keys()
    assert all(torch.equal(prompt_whole[k], prompt_rest[k]) for k in prompt_whole)


def toy_state(width: int = 3, hash_: str = "h") -> TrainState:
    torch.manual_seed(0)
    learner = torch.nn.Linear(width, 2)
    optimizer = torch.optim.SGD(learner.parameters(), lr=0.1, momentum=0.9)
    learner(torch.ones(1, width)).sum().backward()
    optimizer.step()  # momentum buffers exist
    return TrainState(learner, optimizer, torch.Generator().manual_seed(1), 5, [], hash_)


def test_a_state_round_trips_learner_momentum_and_generator(tmp_path):
    source = toy_state()
    source.save(tmp_path / "s")
    target = TrainState(
        torch.nn.Linear(3, 2),
        None,
        torch.Generator().manual_seed(9),
        0,
        [],
        "h",
    )
    target.optimizer = torch.optim.SGD(target.learner.parameters(), lr=0.1, momentum=0.9)
    target.load(tmp_path / "s")
    assert target.epoch == 5
    for a, b in zip(source.learner.parameters(), target.learner.parameters(), strict=True):
        assert torch.equal(a, b)
        assert torch.equal(
            source.optimizer.state[a]["momentum_buffer"],
            target.optimizer.state[b]["momentum_buffer"],
        )
    assert torch.equal(
        torch.rand(4, generator=source.generator), torch.rand(4, generator=target.generator)
    )


def test_wrong_keys_and_shapes_are_named_and_nothing_is_loaded(tmp_path):
    toy_state().save(tmp_path / "s")
    tensors = load_file(str(tmp_path / "s" / TENSORS_FILE))
    tensors["learner.weight"] = torch.zeros(2, 5)  # wrong shape
    tensors["learner.extra"] = torch.zeros(1)  # unexpected
    del tensors["learner.bias"]  # missing
    save_file(tensors, str(tmp_path / "s" / TENSORS_FILE))
    target = toy_state(hash_="h")
    before = [p.detach().clone() for p in target.learner.parameters()]
    with pytest.raises(TrainStateError) as caught:
        target.load(tmp_path / "s")
    message = str(caught.value)
    assert str(tmp_path / "s" / TENSORS_FILE) in message
    assert "missing ['learner.bias']" in message
    assert "unexpected ['learner.extra']" in message
    assert "learner.weight: saved (2, 5), needs (2, 3)" in message
    assert all(torch.equal(a, b) for a, b in zip(before, target.learner.parameters(), strict=True))
    assert target.epoch == 5


def test_a_state_of_other_settings_or_a_broken_file_is_refused(tmp_path):
    toy_state(hash_=config_hash({"seed": 0})).save(tmp_path / "s")
    with pytest.raises(TrainStateError, match="saved by a trial with other settings"):
        toy_state(hash_=config_hash({"seed": 1})).load(tmp_path / "s")
    (tmp_path / "s" / TENSORS_FILE).write_bytes(b"not safetensors")
    with pytest.raises(TrainStateError, match="unreadable"):
        toy_state(hash_=config_hash({"seed": 0})).load(tmp_path / "s")
    with pytest.raises(TrainStateError, match="missing"):
        toy_state().load(tmp_path / "nowhere")


def test_the_output_folder_is_not_part_of_the_config_hash():
    assert config_hash({"a": 1, "output_dir": "/x"}) == config_hash({"a": 1, "output_dir": "/y"})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
