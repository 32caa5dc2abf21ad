"""What a finished trial leaves in its folder (``output_dir``): its config, metrics, split,
learned prompt (and that prompt read as words), class and neighbour text features, and with SEPT
the neighbours and bank it used. The report and MLflow read these files."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

import numpy as np
import yaml
from safetensors.torch import save_file

from sept_ray.artifacts.readable import prompt_tokens
from sept_ray.artifacts.text_map import TEXT_MAP_FILE, text_map
from sept_ray.sept.bank import load_bank_or_none, save_bank

if TYPE_CHECKING:
    from sept_ray.train import Fitted, TrialResult


def write_artifacts(result: TrialResult, fitted: Fitted) -> None:
    """config.yaml, metrics.json, per_class_accuracy.json, split.json, prompt.safetensors
    (learned parameters; absent for zero-shot), prompt_tokens.json (each learned context vector's
    nearest vocabulary tokens, :mod:`sept_ray.artifacts.readable`; absent for methods without
    context vectors: PALM, zero-shot), text_embeddings.npz (every class and its first N bank
    phrases through the learned prompt and zero-shot, :mod:`sept_ray.artifacts.text_map`) and, with
    SEPT, neighbours.json and the bank it used
    (neighbour_bank.json, whose content hash is the ``neighbour_bank`` tag)."""
    out = result.output_dir
    cfg = result.config
    learner, task = fitted.learner, fitted.task
    (out / "config.yaml").write_text(yaml.safe_dump(cfg.to_dict(), sort_keys=False))
    metrics = {
        "final": result.summary(),
        "history": [asdict(m) for m in result.history],
        "tags": result.tags,
        "datasets": result.datasets,
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    (out / "per_class_accuracy.json").write_text(json.dumps(result.per_class, indent=1))
    split = task.record()
    split["seed"] = cfg.train.seed
    split["short_classes"] = task.short_classes(cfg.data.shots)
    (out / "split.json").write_text(json.dumps(split, indent=1))
    state = {k: v.detach().cpu().contiguous() for k, v in learner.state_dict().items()}
    if state:
        save_file(state, str(out / "prompt.safetensors"))
    readable = prompt_tokens(learner)
    if readable is not None:
        text = json.dumps(readable, indent=1, ensure_ascii=False)
        (out / "prompt_tokens.json").write_text(text, encoding="utf-8")
    bank = fitted.bank or load_bank_or_none(cfg.sept.bank, cfg.data.name)
    arrays = text_map(
        learner,
        task.split.classes,
        task.train_classes,
        task.template,
        bank,
        cfg.data.name,
        result.n_neighbors or cfg.sept.n_neighbors,
    )
    np.savez(out / TEXT_MAP_FILE, **arrays)
    expansion = fitted.expansion
    if expansion is not None and fitted.bank is not None:
        save_bank(fitted.bank, out / "neighbour_bank.json")
        neighbours = {
            "bank": cfg.sept.bank,
            "bank_file": fitted.bank.source,
            "bank_hash": result.tags["neighbour_bank"],
            "n_neighbors": result.n_neighbors,
            "classes": list(task.train_classes),
            "neighbours": expansion.neighbours,
            "margin_templates": expansion.templates,
            "margins": expansion.margins.cpu().tolist(),
        }
        (out / "neighbours.json").write_text(json.dumps(neighbours, indent=1))
