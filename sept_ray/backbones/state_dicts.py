"""Reading checkpoints and loading them strictly, tolerating only harmless stale buffers.

- :func:`read_state_dict`: a ``torch.save``d file (a plain state dict, or a dict holding it under
  ``"model"`` or ``"state_dict"``) or a ``.safetensors`` file -> ``{key: tensor}``.
- :func:`unwrap_module`: drops the ``module.`` prefix that DataParallel/DDP adds to every key.
- :func:`strip_prefix`: the entries under one sub-module (``"audio_encoder."``), prefix removed.
- :func:`load_strict`: loads into a module; a key set that differs in anything but harmless
  buffers raises a ``ValueError`` naming the source and every offending key.

Harmless buffers: missing ``num_batches_tracked`` (BatchNorm's step counter, unused in eval),
``position_ids``, ``relative_position_index`` and ``attn_mask`` (derived from the architecture
and rebuilt by the module itself); unexpected ``num_batches_tracked`` and ``position_ids`` (stale
buffers that older library versions saved). Anything else is an error.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

HARMLESS_MISSING = ("num_batches_tracked", "position_ids", "relative_position_index", "attn_mask")
HARMLESS_UNEXPECTED = ("num_batches_tracked", "position_ids")
SHOWN_KEYS = 20  # keys listed per kind in an error message


def read_state_dict(path: str | Path, allow_pickle: bool = False) -> dict[str, torch.Tensor]:
    """The tensors of a checkpoint file, on CPU.

    ``torch.save`` files are read with ``weights_only=True``; a file that also pickles other
    objects (an argparse namespace, an optimizer) needs ``allow_pickle=True``, which runs its
    pickled code: pass it only for a file you trust (e.g. one whose sha256 was checked).
    """
    path = Path(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        if not allow_pickle:
            raise ValueError(
                f"{path}: holds pickled objects besides tensors; load it with allow_pickle=True "
                f"only if you trust the file ({str(error).splitlines()[0]})"
            ) from None
        loaded = torch.load(path, map_location="cpu", weights_only=False)
    for key in ("model", "state_dict"):
        if isinstance(loaded, Mapping) and isinstance(loaded.get(key), Mapping):
            loaded = loaded[key]
            break
    if not isinstance(loaded, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in loaded.values()
    ):
        raise ValueError(
            f"{path}: not a state dict (expected a mapping of tensors, or one under 'model'/'state_dict')"
        )
    return dict(loaded)


def unwrap_module(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``state`` with a leading ``module.`` removed from every key that has one."""
    return {key.removeprefix("module."): value for key, value in state.items()}


def strip_prefix(state: Mapping[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The entries whose key starts with ``prefix``, with it removed; the others are dropped."""
    return {key[len(prefix) :]: value for key, value in state.items() if key.startswith(prefix)}


def _last(key: str) -> str:
    return key.rsplit(".", 1)[-1]


def _listing(label: str, keys: list[str]) -> str:
    shown = ", ".join(keys[:SHOWN_KEYS])
    more = f" ... and {len(keys) - SHOWN_KEYS} more" if len(keys) > SHOWN_KEYS else ""
    return f"{label} ({len(keys)}): {shown}{more}"


def load_strict(module: nn.Module, state: Mapping[str, torch.Tensor], *, source: str) -> None:
    """Copy ``state`` into ``module``: every key must match in name and shape, except the
    harmless buffers named in the module docstring. Raises ``ValueError`` naming ``source``,
    the module's class and the offending keys; nothing is loaded then."""
    expected = module.state_dict()
    buffers = {name for name, _ in module.named_buffers()}
    missing = [
        key
        for key in expected
        if key not in state and not (key in buffers and _last(key) in HARMLESS_MISSING)
    ]
    unexpected = [
        key for key in state if key not in expected and _last(key) not in HARMLESS_UNEXPECTED
    ]
    mismatched = [
        f"{key} {tuple(state[key].shape)} != {tuple(expected[key].shape)}"
        for key in state
        if key in expected and tuple(state[key].shape) != tuple(expected[key].shape)
    ]
    problems = [
        _listing(label, keys)
        for label, keys in (
            ("missing keys", missing),
            ("unexpected keys", unexpected),
            ("shape mismatches (checkpoint != model)", mismatched),
        )
        if keys
    ]
    if problems:
        raise ValueError(f"{source}: does not fit {type(module).__name__}; " + "; ".join(problems))
    module.load_state_dict({k: v for k, v in state.items() if k in expected}, strict=False)
