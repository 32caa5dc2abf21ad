import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from sept_ray.config import ConfigError, TrialConfig
from sept_ray.metrics import harmonic_mean
from sept_ray.sept.bank import NeighbourBank, load_bank, save_bank
from sept_ray.train import EpochMetrics, TrialError, reported_epoch, run_trial

PROVENANCE = {"generator": "test", "model": "none", "prompt_version": "0", "date": "2026-11-26"}


def config(tmp_path, tone_root, weights, **sections):
    values = {
        "data": {"name": "Tones", "root": str(tone_root), "shots": 4},
        "backbone": {"weights": str(weights), "device": "cpu"},
        "method": {"name": "coop", "n_ctx": 4},
        "train": {"epochs": 2, "batch_size": 4, "seed": 0},
        "output_dir": str(tmp_path / "trial"),
        "cache_dir": str(tmp_path / "cache"),
    }
    for key, value in sections.items():
        values[key] = {**values.get(key, {}), **value} if isinstance(value, dict) else value
    return TrialConfig.from_dict(values)


def test_coop_trial_metrics_and_artifacts(tmp_path, tone_root, small_weights):
    cfg = config(tmp_path, tone_root, small_weights)
    seen = []
    result = run_trial(cfg, on_epoch=lambda m, _state: seen.append(m))
    assert [m.epoch for m in result.history] == [1, 2] and seen == result.history
    assert result.peak_rss_mb > 100  # the text tower alone is ~90 MB of weights
    assert result.n_params == 4 * 384
    assert result.timing.audio_tower_ms > 0 and result.timing.logits_ms > 0
    assert result.timing.total_ms == result.timing.audio_tower_ms + result.timing.logits_ms
    assert result.h == pytest.approx(harmonic_mean(result.base, result.new))
    # 3 test clips per class: the accuracy is the mean of the per-class accuracies
    assert result.base == pytest.approx(sum(result.per_class["base"].values()) / 2, abs=1e-4)
    assert result.new == pytest.approx(sum(result.per_class["new"].values()) / 2, abs=1e-4)
    out = result.output_dir
    assert {p.name for p in out.iterdir()} == {
        "config.yaml",
        "metrics.json",
        "per_class_accuracy.json",
        "split.json",
        "prompt.safetensors",
        "prompt_tokens.json",
        "text_embeddings.npz",
    }
    assert TrialConfig.from_yaml(out / "config.yaml") == cfg
    assert load_file(str(out / "prompt.safetensors"))["ctx"].shape == (4, 384)
    readable = json.loads((out / "prompt_tokens.json").read_text(encoding="utf-8"))
    assert readable["backbone"] == "tiny-alm" and readable["k"] == 5
    assert [c["index"] for c in readable["contexts"]] == [0, 1, 2, 3]  # one per context vector
    assert all(len(c["tokens"]) == 5 and c["nearest_l2"] > 0 for c in readable["contexts"])
    nearest = [c["tokens"][0]["token"] for c in readable["contexts"]]
    assert readable["prompt_text"] == " ".join([*nearest, "X."])
    split = json.loads((out / "split.json").read_text())
    assert split["base"] == ["alpha", "beta"] and split["new"] == ["delta", "gamma"]
    assert len(split["train_clips"]) == 8
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["final"]["H"] == pytest.approx(result.h)
    assert (
        len(metrics["tags"]["dataset_manifest"]) == 64 and metrics["tags"]["neighbour_bank"] == ""
    )


def test_trial_is_deterministic(tmp_path, tone_root, small_weights):
    first = run_trial(config(tmp_path / "a", tone_root, small_weights))
    second = run_trial(config(tmp_path / "b", tone_root, small_weights))
    assert [m.loss for m in first.history] == [m.loss for m in second.history]
    ctx = [load_file(str(r.output_dir / "prompt.safetensors"))["ctx"] for r in (first, second)]
    assert torch.equal(*ctx)
    other = run_trial(config(tmp_path / "c", tone_root, small_weights, train={"seed": 1}))
    assert other.history[0].loss != first.history[0].loss


def test_zero_shot_trial_has_no_training(tmp_path, tone_root, small_weights):
    result = run_trial(config(tmp_path, tone_root, small_weights, method={"name": "zeroshot"}))
    assert [m.epoch for m in result.history] == [0]
    assert not (result.output_dir / "prompt.safetensors").exists()
    assert not (result.output_dir / "prompt_tokens.json").exists()


def test_sept_trial_uses_bank_and_logs_neighbours(tmp_path, tone_root, small_weights):
    phrases = {c: [f"{c} tone {i}" for i in range(5)] for c in ["alpha", "beta", "delta", "gamma"]}
    bank_path = tmp_path / "bank.json"
    save_bank(NeighbourBank({"Tones": phrases}, PROVENANCE, "mem"), bank_path)
    cfg = config(
        tmp_path,
        tone_root,
        small_weights,
        sept={"enabled": True, "bank": str(bank_path), "n_neighbors": 3},
    )
    result = run_trial(cfg)
    assert all(m.se > 0 for m in result.history)
    saved = json.loads((result.output_dir / "neighbours.json").read_text())
    assert saved["classes"] == ["alpha", "beta"] and saved["neighbours"][1] == phrases["beta"][:3]
    assert torch.tensor(saved["margins"]).shape == (2, 2, 3)
    assert result.tags["neighbour_bank"] == saved["bank_hash"] != ""
    assert saved["n_neighbors"] == 3 and result.summary()["n_neighbors"] == 3
    used = load_bank(result.output_dir / "neighbour_bank.json")  # the bank itself, an artifact
    assert used.datasets == {"Tones": phrases} and used.content_hash == saved["bank_hash"]

    # the text map: every class (base and new) and its first N phrases, learned and zero-shot
    arrays = np.load(result.output_dir / "text_embeddings.npz")
    assert list(arrays["classes"]) == ["alpha", "beta", "delta", "gamma"]
    assert list(arrays["trained"]) == [True, True, False, False]
    assert list(arrays["phrases"][:3]) == phrases["alpha"][:3] and len(arrays["phrases"]) == 12
    assert list(arrays["phrase_owner"]) == [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3
    for key in ("class_learned", "class_zeroshot", "phrase_learned", "phrase_zeroshot"):
        assert np.allclose(np.linalg.norm(arrays[key], axis=1), 1.0, atol=1e-5)
    assert arrays["class_learned"].shape == (4, 384) and arrays["phrase_learned"].shape == (12, 384)
    # zero-shot is the backbone's hand-template text feature; learned differs after training
    assert not np.allclose(arrays["class_learned"], arrays["class_zeroshot"], atol=1e-3)


def test_zero_shot_text_map_is_the_template_embedding(tmp_path, tone_root, small_weights):
    cfg = config(tmp_path, tone_root, small_weights, method={"name": "zeroshot"})
    arrays = np.load(run_trial(cfg).output_dir / "text_embeddings.npz")
    assert len(arrays["phrases"]) == 0  # no shipped bank for the test dataset: classes only
    assert np.allclose(arrays["class_learned"], arrays["class_zeroshot"], atol=1e-5)


def test_sept_needs_every_base_class_in_the_bank(tmp_path, tone_root, small_weights):
    bank_path = tmp_path / "bank.json"
    save_bank(NeighbourBank({"Tones": {"alpha": ["a"] * 3}}, PROVENANCE, "mem"), bank_path)
    cfg = config(tmp_path, tone_root, small_weights, sept={"enabled": True, "bank": str(bank_path)})
    with pytest.raises(ValueError, match="lacks class\\(es\\) \\['beta'\\]"):
        run_trial(cfg)


def test_sept_with_zero_shot_is_refused(tmp_path, tone_root, small_weights):
    cfg = config(
        tmp_path, tone_root, small_weights, method={"name": "zeroshot"}, sept={"enabled": True}
    )
    with pytest.raises(ConfigError, match="nothing to train"):
        run_trial(cfg)


def test_non_finite_loss_fails_the_trial(tmp_path, tone_root, small_weights):
    cfg = config(tmp_path, tone_root, small_weights, train={"lr": 1e38, "epochs": 3})
    with pytest.raises(TrialError, match="non-finite loss .* at epoch"):
        run_trial(cfg)


def test_training_never_runs_the_audio_tower(tmp_path, tone_root, small_weights, monkeypatch):
    from sept_ray.backbones.tiny import TinyALM

    run_trial(config(tmp_path / "warm", tone_root, small_weights))  # fills the cache

    def refuse(self, wave):
        raise AssertionError("the audio tower ran during a trial")

    monkeypatch.setattr(TinyALM, "audio_features", refuse)
    # inference timing (after training) runs the tower on purpose; here it is off
    cfg = config(tmp_path / "again", tone_root, small_weights, train={"time_inference": False})
    cfg = TrialConfig.from_dict({**cfg.to_dict(), "cache_dir": str(tmp_path / "warm" / "cache")})
    assert len(run_trial(cfg).history) == 2


def test_random_crop_views_feed_training(tmp_path, small_weights):
    from conftest import write_tone_dataset

    write_tone_dataset(tmp_path, "Long", ["alpha", "beta", "delta", "gamma"], 6, 3, seconds=3.0)
    centre = run_trial(config(tmp_path / "c", tmp_path, small_weights, data={"name": "Long"}))
    views = run_trial(
        config(
            tmp_path / "v",
            tmp_path,
            small_weights,
            data={"name": "Long", "train_crop": "random", "crop_views": 2},
        )
    )
    assert [m.loss for m in views.history] != [m.loss for m in centre.history]


def test_prompts_are_tokenized_once_per_trial(tmp_path, tone_root, small_weights, monkeypatch):
    """Tokenizing is done before training: more epochs make no more tokenizer calls."""
    from sept_ray.backbones.tiny import TinyALM
    from sept_ray.sept import margins

    calls = []
    original = TinyALM.tokenize
    monkeypatch.setattr(
        TinyALM, "tokenize", lambda self, *a, **k: calls.append(1) or original(self, *a, **k)
    )
    counts = []
    for epochs in (1, 4):
        calls.clear()
        monkeypatch.setattr(margins, "_SPACES", {})  # each trial computes its margins anew
        cfg = config(
            tmp_path / str(epochs),
            tone_root,
            small_weights,
            train={"epochs": epochs},
            sept={"enabled": True, "bank": str(bank_file(tmp_path)), "n_neighbors": 2},
        )
        run_trial(cfg)
        counts.append(len(calls))
    assert counts[0] == counts[1] > 0
    calls.clear()
    run_trial(cfg)  # the process already holds this dataset's margins: fewer calls
    assert 0 < len(calls) < counts[1]


def bank_file(tmp_path):
    phrases = {c: [f"{c} tone {i}" for i in range(3)] for c in ["alpha", "beta", "delta", "gamma"]}
    path = tmp_path / "bank.json"
    save_bank(NeighbourBank({"Tones": phrases}, PROVENANCE, "mem"), path)
    return path


def epoch(number: int, loss: float, h: float) -> EpochMetrics:
    return EpochMetrics(number, loss, loss, 0.0, base=h, new=h, h=h, seconds=0.0)


def test_min_train_loss_reports_the_first_epoch_of_lowest_training_loss():
    history = [epoch(1, 0.9, 50), epoch(2, 0.5, 60), epoch(3, 0.7, 70), epoch(4, 0.5, 80)]
    history += [epoch(5, 0.4, 65), epoch(6, 0.4, 90), epoch(7, 0.45, 95)]
    assert reported_epoch(history, "min_train_loss").epoch == 5  # a tie keeps the earlier
    assert reported_epoch(history, "last").epoch == 7
    assert reported_epoch(history[:4], "min_train_loss").epoch == 2
    assert reported_epoch([epoch(0, 0.0, 40)], "min_train_loss").epoch == 0  # zero-shot
    # epoch 0 (before training, loss 0) never wins
    assert reported_epoch([epoch(0, 0.0, 40), epoch(1, 0.3, 50)], "min_train_loss").epoch == 1


def test_a_min_train_loss_trial_reports_that_epoch_and_the_last(tmp_path, tone_root, small_weights):
    cfg = config(
        tmp_path,
        tone_root,
        small_weights,
        train={"epochs": 6, "eval_every": 3, "report_epoch": "min_train_loss", "lr": 0.5},
    )
    result = run_trial(cfg)
    evaluated = [m.epoch for m in result.history]
    losses = {m.epoch: m.loss for m in result.history}
    # every epoch whose loss is a new minimum is evaluated, besides epochs 3 and 6
    running = float("inf")
    for m in result.history:
        if m.epoch not in (3, 6):
            assert m.loss < running
        running = min(running, m.loss)
    best = min(losses, key=lambda e: (losses[e], e))
    assert result.report_epoch == best and best in evaluated
    chosen = next(m for m in result.history if m.epoch == best)
    assert (result.base, result.new, result.h) == (chosen.base, chosen.new, chosen.h)
    assert result.last.epoch == 6
    summary = result.summary()
    assert summary["report_epoch"] == best and summary["H_last"] == result.history[-1].h
    written = json.loads((result.output_dir / "metrics.json").read_text())
    assert written["final"]["report_epoch"] == best
    (read,) = written["datasets"]
    assert (read["name"], read["context"], read["profile"]["train_clips"]) == (
        "Tones fold 1",
        "train",
        8,
    )
    assert read["profile"]["manifest"] == result.tags["dataset_manifest"]
