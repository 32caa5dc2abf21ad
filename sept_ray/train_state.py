"""A trial's training state after an epoch, saved to a folder and loaded back without pickle.

A retried or resumed trial continues from its last saved epoch instead of starting again: the
state holds everything the next epoch reads, so epochs ``k+1 .. E`` after a load give the numbers an
uninterrupted trial gives (CPU trials are bit-for-bit deterministic).

Files of a state folder:

- ``train_state.safetensors``: the learner's state dict (``learner.<key>``), SGD's momentum
  buffer of each parameter (``momentum.<group>.<index>``, in the optimizer's parameter order) and
  the trial generator's state (``generator``, uint8 [n]);
- ``train_state.json``: ``epoch`` (the last finished epoch), ``history`` (every evaluation so far,
  as :class:`sept_ray.train.EpochMetrics` fields), ``train_seconds`` so far and the
  trial's ``config_hash``.

Loading checks everything before it changes anything: a folder of another trial (another config
hash), a missing or unexpected tensor, or a tensor of another shape is a :class:`TrainStateError`
naming the folder and each culprit, and leaves the learner, optimizer and generator untouched.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

TENSORS_FILE = "train_state.safetensors"
META_FILE = "train_state.json"
FORMAT = 1


class TrainStateError(ValueError):
    """A saved training state that does not fit this trial; the message names the folder and keys."""


def config_hash(config: dict[str, Any]) -> str:
    """sha256 of a trial config mapping (``TrialConfig.to_dict()``) without the folders it writes
    to (``output_dir``, ``cache_dir``): a state belongs to the trial whose settings made it,
    wherever that trial writes."""
    values = {k: v for k, v in config.items() if k not in ("output_dir", "cache_dir")}
    return hashlib.sha256(json.dumps(values, sort_keys=True).encode()).hexdigest()


@dataclass
class TrainState:
    """Live references to what a trial's next epoch reads; :meth:`save` writes them.

    ``optimizer`` is None for a method with nothing to train (zero-shot).
    """

    learner: torch.nn.Module
    optimizer: torch.optim.Optimizer | None
    generator: torch.Generator
    epoch: int
    history: list[dict[str, float]]
    config_hash: str
    train_seconds: float = 0.0  # seconds of training so far (all attempts)

    def tensors(self) -> dict[str, torch.Tensor]:
        """Every tensor of the state, by its key in ``train_state.safetensors``."""
        out = {f"learner.{k}": v for k, v in self.learner.state_dict().items()}
        for key, param in optimizer_params(self.optimizer):
            buffer = self.optimizer.state.get(param, {}).get("momentum_buffer")
            if buffer is not None:
                out[f"momentum.{key}"] = buffer
        out["generator"] = self.generator.get_state()
        return {k: v.detach().cpu().contiguous() for k, v in out.items()}

    def save(self, folder: Path) -> Path:
        """Write the state's two files into ``folder`` (created); returns ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        save_file(self.tensors(), str(folder / TENSORS_FILE))
        meta = {
            "format": FORMAT,
            "epoch": self.epoch,
            "history": self.history,
            "config_hash": self.config_hash,
            "train_seconds": self.train_seconds,
        }
        (folder / META_FILE).write_text(json.dumps(meta, indent=1))
        return folder

    def load(self, folder: Path) -> None:
        """Replace this state's learner, momentum, generator, epoch and history with those saved
        in ``folder``; raises :class:`TrainStateError` (changing nothing) when they do not fit."""
        meta, saved = read_files(folder)
        if meta.get("config_hash") != self.config_hash:
            raise TrainStateError(
                f"{folder}: saved by a trial with other settings (config hash "
                f"{str(meta.get('config_hash'))[:12]}, this trial's {self.config_hash[:12]})"
            )
        params = dict(optimizer_params(self.optimizer))
        required = {f"learner.{k}": v.shape for k, v in self.learner.state_dict().items()}
        optional = {f"momentum.{k}": p.shape for k, p in params.items()}  # after a first step
        shapes = {**required, **optional}
        problems = []
        missing = sorted(k for k in [*required, "generator"] if k not in saved)
        unexpected = sorted(k for k in saved if k not in shapes and k != "generator")
        wrong = sorted(
            f"{k}: saved {tuple(v.shape)}, needs {tuple(shapes[k])}"
            for k, v in saved.items()
            if k in shapes and v.shape != shapes[k]
        )
        for label, keys in (
            ("missing", missing),
            ("unexpected", unexpected),
            ("wrong shapes", wrong),
        ):
            if keys:
                problems.append(f"{label} {keys}")
        if problems:
            raise TrainStateError(f"{folder / TENSORS_FILE}: " + "; ".join(problems))
        learner_state = {k[8:]: v for k, v in saved.items() if k.startswith("learner.")}
        self.learner.load_state_dict(learner_state, strict=True)
        for key, param in params.items():
            buffer = saved.get(f"momentum.{key}")
            if buffer is not None:
                self.optimizer.state[param]["momentum_buffer"] = buffer.to(param.device).clone()
        try:
            self.generator.set_state(saved["generator"])
        except RuntimeError as exc:
            raise TrainStateError(f"{folder / TENSORS_FILE}: generator state: {exc}") from None
        self.epoch = int(meta["epoch"])
        self.history = list(meta["history"])
        self.train_seconds = float(meta.get("train_seconds", 0.0))


def saved_epoch(folder: Path) -> int:
    """The last finished epoch of the state saved in ``folder``."""
    return int(read_files(folder)[0]["epoch"])


def optimizer_params(optimizer: torch.optim.Optimizer | None) -> list[tuple[str, torch.Tensor]]:
    """``("<group>.<index>", parameter)`` of every parameter ``optimizer`` updates, in order."""
    if optimizer is None:
        return []
    return [
        (f"{g}.{i}", param)
        for g, group in enumerate(optimizer.param_groups)
        for i, param in enumerate(group["params"])
    ]


def read_files(folder: Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The metadata and tensors of a state folder; unreadable files are a :class:`TrainStateError`."""
    meta_file, tensors_file = folder / META_FILE, folder / TENSORS_FILE
    for path in (meta_file, tensors_file):
        if not path.is_file():
            raise TrainStateError(f"{path}: missing (not a training state folder)")
    try:
        meta = json.loads(meta_file.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TrainStateError(f"{meta_file}: not JSON ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise TrainStateError(f"{meta_file}: not a format-{FORMAT} training state")
    try:
        tensors = load_file(str(tensors_file))
    except (SafetensorError, OSError) as exc:
        raise TrainStateError(f"{tensors_file}: unreadable ({exc})") from None
    return meta, tensors
