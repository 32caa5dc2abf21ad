"""Typed configs of one trial: data, backbone, method, SEPT and training (docs/METHOD.md gives
every default and where it comes from).

A :class:`TrialConfig` is built from a nested dict or a YAML file; an unknown key, a value of the
wrong type or out of range raises :class:`ConfigError` naming the dotted key and the value. Choices
the paper does not state are marked ``[ours]`` in their help text (see docs/METHOD.md).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import yaml

GENERIC_TEMPLATES: tuple[str, ...] = (
    "This is a sound of {}.",
    "A recording of {}.",
    "The sound of {}.",
    "An audio clip of {}.",
    "Audio of {}.",
    "This is an audio recording of {}.",
)
"""The 6 generic margin templates [ours]; the dataset's own template is added to them."""


class ConfigError(ValueError):
    """A config key or value is invalid; the message names the dotted key and the value."""


def _check(ok: bool, key: str, value: Any, why: str) -> None:
    if not ok:
        raise ConfigError(f"{key} = {value!r}: {why}")


@dataclass
class DataConfig:
    """Which dataset, fold and few-shot sample a trial uses (PALM layout, docs/DATASETS.md)."""

    name: str = field(default="SynthInstruments", metadata={"help": "dataset folder under root"})
    root: str = field(default="", metadata={"help": "folder holding the dataset folders"})
    fold: int = field(default=1, metadata={"help": "1-based fold; 1 for single-fold datasets"})
    shots: int = field(default=16, metadata={"help": "training clips per base class"})
    template: str = field(
        default="", metadata={"help": "zero-shot template with one {}; empty = the dataset's own"}
    )
    train_crop: str = field(
        default="center",
        metadata={"help": "crop of long training clips: center, or random (cached views) [ours]"},
    )
    crop_views: int = field(
        default=4, metadata={"help": "random-crop views cached per training clip [ours]"}
    )
    short_classes: str = field(
        default="warn",
        metadata={
            "help": "a class with fewer training clips than shots: warn (use all, as PALM "
            "does) or error [ours]"
        },
    )

    def __post_init__(self) -> None:
        _check(bool(self.name), "data.name", self.name, "must name a dataset")
        _check(self.fold >= 1, "data.fold", self.fold, "folds are numbered from 1")
        _check(self.shots >= 1, "data.shots", self.shots, "must be >= 1")
        _check(
            not self.template or self.template.count("{}") == 1,
            "data.template",
            self.template,
            "needs exactly one {}",
        )
        _check(
            self.train_crop in ("center", "random"),
            "data.train_crop",
            self.train_crop,
            "must be 'center' or 'random'",
        )
        _check(self.crop_views >= 1, "data.crop_views", self.crop_views, "must be >= 1")
        _check(
            self.short_classes in ("warn", "error"),
            "data.short_classes",
            self.short_classes,
            "must be 'warn' or 'error'",
        )


@dataclass
class BackboneConfig:
    """The frozen audio-language model."""

    name: str = field(default="tiny-alm", metadata={"help": "registered backbone name"})
    weights: str = field(
        default="", metadata={"help": "weights file or folder; empty = the backbone's default"}
    )
    device: str = field(default="auto", metadata={"help": "auto, cpu, cuda or cuda:N"})

    def __post_init__(self) -> None:
        _check(bool(self.name), "backbone.name", self.name, "must name a backbone")
        ok = self.device in ("auto", "cpu", "cuda") or self.device.startswith("cuda:")
        _check(ok, "backbone.device", self.device, "must be auto, cpu, cuda or cuda:N")


@dataclass
class MethodConfig:
    """The prompt learner (docs/METHOD.md, "Prompt learners")."""

    name: str = field(default="coop", metadata={"help": "registered method name"})
    n_ctx: int = field(default=16, metadata={"help": "learned context vectors"})
    ctx_init_std: float = field(default=0.02, metadata={"help": "std of the N(0, s) context init"})
    options: dict[str, Any] = field(
        default_factory=dict,
        metadata={"help": "the method's own settings (e.g. kgcoop: w), checked by its Options"},
    )
    share_prefix: bool = field(
        default=True,
        metadata={
            "help": "run the start token + shared context once for all prompts on a causal text "
            "tower (exact; off only to measure it) [ours]"
        },
    )

    def __post_init__(self) -> None:
        _check(bool(self.name), "method.name", self.name, "must name a method")
        _check(self.n_ctx >= 1, "method.n_ctx", self.n_ctx, "must be >= 1")
        _check(self.ctx_init_std > 0, "method.ctx_init_std", self.ctx_init_std, "must be > 0")


NEIGHBOUR_SPACES = ("learned", "frozen")
REPORT_EPOCHS = ("last", "min_train_loss")


@dataclass
class SeptConfig:
    """The Semantic Expansion loss (docs/METHOD.md, "The SE loss"); off unless ``enabled``."""

    enabled: bool = field(default=False, metadata={"help": "add lambda * L_se to the loss"})
    bank: str = field(
        default="builtin",
        metadata={"help": "neighbour bank JSON path, or 'builtin' (the dataset's shipped bank)"},
    )
    n_neighbors: int = field(
        default=10, metadata={"help": "N: the first N phrases per class [ours]"}
    )
    lam: float = field(default=1.0, metadata={"help": "lambda, weight of L_se [ours]"})
    use_intra: bool = field(default=True, metadata={"help": "ablation switch: L_intra"})
    intra_margin: bool = field(default=True, metadata={"help": "ablation switch: m_intra"})
    use_inter: bool = field(default=True, metadata={"help": "ablation switch: L_inter"})
    inter_margin: bool = field(default=True, metadata={"help": "ablation switch: m_inter"})
    intra_const_margin: float = field(
        default=0.0, metadata={"help": "constant intra margin when intra_margin is off [ours]"}
    )
    inter_const_margin: float = field(
        default=1.0, metadata={"help": "constant inter margin when inter_margin is off [ours]"}
    )
    sample_neighbors: int = field(
        default=0,
        metadata={
            "help": "k > 0: each step uses k of each class's N neighbours, drawn at random (an "
            "unbiased estimate of L_se, faster); 0: all N (exact, the paper) [ours]"
        },
    )
    margin_scale: float = field(
        default=1.0,
        metadata={
            "help": "factor on the pretrained margins (1 = the paper's loss; searched) [ours]"
        },
    )
    neighbour_space: str = field(
        default="learned",
        metadata={
            "help": "where a neighbour p_i^n lives: learned (through the learned prompt, as z) "
            "or frozen (the frozen template-averaged phrase embedding, no gradient) [ours]"
        },
    )
    templates: tuple[str, ...] = field(
        default=GENERIC_TEMPLATES, metadata={"help": "margin templates, each with one {} [ours]"}
    )
    use_dataset_template: bool = field(
        default=True, metadata={"help": "add the dataset's own template to the margins [ours]"}
    )

    def __post_init__(self) -> None:
        _check(self.n_neighbors >= 1, "sept.n_neighbors", self.n_neighbors, "must be >= 1")
        _check(
            0 <= self.sample_neighbors <= self.n_neighbors,
            "sept.sample_neighbors",
            self.sample_neighbors,
            f"must be in [0, n_neighbors = {self.n_neighbors}] (0: every neighbour)",
        )
        _check(self.lam >= 0, "sept.lam", self.lam, "must be >= 0")
        _check(
            self.neighbour_space in NEIGHBOUR_SPACES,
            "sept.neighbour_space",
            self.neighbour_space,
            f"must be one of {NEIGHBOUR_SPACES}",
        )
        _check(
            0 < self.margin_scale <= 10,
            "sept.margin_scale",
            self.margin_scale,
            "must be in (0, 10]",
        )
        for name in ("intra_const_margin", "inter_const_margin"):
            value = getattr(self, name)
            _check(0 <= value <= 2, f"sept.{name}", value, "unit-vector distances lie in [0, 2]")
        _check(
            len(self.templates) > 0 or self.use_dataset_template,
            "sept.templates",
            self.templates,
            "need at least one template",
        )
        for template in self.templates:
            _check(template.count("{}") == 1, "sept.templates", template, "needs exactly one {}")


@dataclass
class TrainConfig:
    """Optimisation of one trial (defaults: the authors' group code; docs/METHOD.md)."""

    seed: int = field(default=0, metadata={"help": "seed of few-shot sample, init and order"})
    epochs: int = field(default=50, metadata={"help": "training epochs"})
    batch_size: int = field(default=16, metadata={"help": "clips per step"})
    lr: float = field(
        default=0.0125,
        metadata={
            "help": "SGD learning rate, no schedule; when unset, the method's own default "
            "(PALM: 0.05; `sept methods`), else 0.0125"
        },
    )
    momentum: float = field(default=0.9, metadata={"help": "SGD momentum"})
    weight_decay: float = field(default=0.0, metadata={"help": "SGD weight decay"})
    eval_every: int = field(default=1, metadata={"help": "evaluate every k epochs (and the last)"})
    time_inference: bool = field(
        default=True, metadata={"help": "measure inference ms per clip after training"}
    )
    report_epoch: str = field(
        default="last",
        metadata={
            "help": "which epoch's Base/New/H a trial reports: last, or min_train_loss (the "
            "epoch of lowest mean training loss, as the authors' code)"
        },
    )
    diagnostics_every: int = field(
        default=25,
        metadata={
            "help": "SEPT's hinge diagnostics of the new classes, and of the base classes of a "
            "trial without SEPT, at evaluated epochs that are multiples of k and the last (a "
            "SEPT trial measures its base classes in every training step); 0: off [ours]"
        },
    )

    def __post_init__(self) -> None:
        _check(self.seed >= 0, "train.seed", self.seed, "must be >= 0")
        _check(self.epochs >= 0, "train.epochs", self.epochs, "must be >= 0")
        _check(self.batch_size >= 1, "train.batch_size", self.batch_size, "must be >= 1")
        _check(self.lr > 0, "train.lr", self.lr, "must be > 0")
        _check(0 <= self.momentum < 1, "train.momentum", self.momentum, "must be in [0, 1)")
        _check(self.weight_decay >= 0, "train.weight_decay", self.weight_decay, "must be >= 0")
        _check(self.eval_every >= 1, "train.eval_every", self.eval_every, "must be >= 1")
        _check(
            self.diagnostics_every >= 0,
            "train.diagnostics_every",
            self.diagnostics_every,
            "must be >= 0 (0: off)",
        )
        _check(
            self.report_epoch in REPORT_EPOCHS,
            "train.report_epoch",
            self.report_epoch,
            f"must be one of {REPORT_EPOCHS}",
        )


@dataclass
class ProtocolConfig:
    """What a trial trains on and is scored on (docs/METHOD.md, "Setting and protocol").

    ``b2n``: train on the base classes, score base and new test clips. ``xd``: train on every class
    of ``data.name``, score its test clips (reported as ``base``) and the test clips of ``target``
    with the target's class names (reported as ``new``). ``val``: a search objective that never
    reads a test clip: the base classes split again into pseudo-base and pseudo-new, shots from
    pseudo-base training clips, scored on held-out training clips of both [ours].
    """

    name: str = field(default="b2n", metadata={"help": "b2n, xd or val"})
    target: str = field(default="", metadata={"help": "xd: the target dataset folder under root"})
    target_fold: int = field(
        default=1, metadata={"help": "xd: fold of the target whose test clips are scored [ours]"}
    )
    val_fraction: float = field(
        default=0.25,
        metadata={"help": "val: share of each pseudo-base class's training clips held out [ours]"},
    )
    val_partition: int = field(
        default=0,
        metadata={
            "help": "val: which partition of the base classes into pseudo-base and "
            "pseudo-new (0 .. val_partitions - 1; 0: the first half is pseudo-base) [ours]"
        },
    )
    val_partitions: int = field(
        default=1,
        metadata={
            "help": "val: how many partitions the base classes are rotated through "
            "(the search scores each) [ours]"
        },
    )

    def __post_init__(self) -> None:
        # imported here: the protocols module builds tasks from this module's configs
        from sept_ray.protocols import PROTOCOLS

        names = tuple(PROTOCOLS.names())
        _check(self.name in PROTOCOLS, "protocol.name", self.name, f"must be one of {names}")
        _check(
            not PROTOCOLS.get(self.name).scores_target or bool(self.target),
            "protocol.target",
            self.target,
            f"{self.name} needs a target dataset",
        )
        _check(self.target_fold >= 1, "protocol.target_fold", self.target_fold, "folds start at 1")
        _check(
            0 < self.val_fraction < 1,
            "protocol.val_fraction",
            self.val_fraction,
            "must be in (0, 1)",
        )
        _check(self.val_partitions >= 1, "protocol.val_partitions", self.val_partitions, ">= 1")
        _check(
            0 <= self.val_partition < self.val_partitions,
            "protocol.val_partition",
            self.val_partition,
            f"must be in [0, {self.val_partitions - 1}] (protocol.val_partitions)",
        )


@dataclass
class TrialConfig:
    """Everything one trial depends on; its resolved form is saved with every result."""

    data: DataConfig = field(default_factory=DataConfig)
    backbone: BackboneConfig = field(default_factory=BackboneConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    sept: SeptConfig = field(default_factory=SeptConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    protocol: ProtocolConfig = field(default_factory=ProtocolConfig)
    output_dir: str = field(default="", metadata={"help": "trial folder for artifacts"})
    cache_dir: str = field(default="", metadata={"help": "audio-embedding cache folder"})

    @property
    def variant(self) -> str:
        """The method as the tables name it, e.g. ``coop`` or ``coop+sept``."""
        return f"{self.method.name}+sept" if self.sept.enabled else self.method.name

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict (tuples as lists) that :meth:`from_dict` reads back."""
        return _plain(dataclasses.asdict(self))

    def flat(self) -> dict[str, Any]:
        """``{"sept.lam": 1.0, ...}``: the resolved config flattened with dotted keys."""
        return flatten(self.to_dict())

    @classmethod
    def from_dict(cls, values: dict[str, Any], preset: str | None = None) -> TrialConfig:
        """Build from a nested dict, over the named preset's values (``demo`` or ``paper``).

        Training settings the method's reference code sets differently (its ``train_defaults``,
        e.g. PALM's lr 0.05) fill the ``train`` keys that neither ``values`` nor the preset set."""
        merged = deep_merge(preset_values(preset), values) if preset else values
        section = merged.get("method", {})
        method = section.get("name", MethodConfig.name) if isinstance(section, dict) else ""
        own = method_train_defaults(method) if isinstance(method, str) and method else {}
        if own:
            merged = deep_merge({"train": own}, merged)
        return _build(cls, merged, "")

    @classmethod
    def from_yaml(cls, path: str | Path, preset: str | None = None) -> TrialConfig:
        """Read a YAML mapping (:func:`read_yaml_mapping`) and build as :meth:`from_dict`."""
        return cls.from_dict(read_yaml_mapping(path), preset=preset)


def parse_yaml(text: str | IO[str], source: str) -> Any:
    """``yaml.safe_load(text)``. Malformed YAML, or a tag ``safe_load`` refuses to construct
    (``!!python/object/apply:...``: nothing is run), raises ``ConfigError`` naming ``source``
    (a file, or a ``--set`` override), the line and the problem, on one line."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(f"{source}: invalid YAML {_yaml_problem(error)}") from None


def _yaml_problem(error: yaml.YAMLError) -> str:
    """``at line L, column C: <problem> (<context>)`` of a YAML error, whitespace collapsed."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    if mark is None or problem is None:
        return " ".join(f"({error})".split())  # e.g. a ReaderError: it names a position
    context = getattr(error, "context", None)
    text = f"at line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join((f"{text} ({context})" if context else text).split())


def read_yaml_mapping(path: str | Path) -> dict[str, Any]:
    """The mapping a YAML file holds (``{}`` when empty), read by :func:`parse_yaml`; invalid
    YAML or another top-level value raises ``ConfigError`` naming ``path``."""
    with open(path, encoding="utf-8") as handle:
        values = parse_yaml(handle, str(path)) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"{path}: the top level must be a mapping, got {type(values).__name__}")
    return values


PAPER_CROP_VIEWS = 8
"""Random-crop views cached per clip in the ``paper`` preset (docs/METHOD.md, "Presets")."""

PRESETS: dict[str, dict[str, Any]] = {
    "paper": {
        "train": {"epochs": 50, "report_epoch": "min_train_loss"},
        "data": {"train_crop": "random", "crop_views": PAPER_CROP_VIEWS},
    },
    "demo": {"train": {"epochs": 12}},
}
"""Named overrides: ``paper`` = the authors' training (50 epochs, the lowest-training-loss epoch
reported, random training crops); ``demo`` = 12 epochs, last epoch, centre crops, for a CPU laptop.
"""


def method_train_defaults(method: str) -> dict[str, Any]:
    """The ``train`` settings registered method ``method`` defaults to (``{}`` for an unknown
    name: the trial names it in its error later)."""
    from sept_ray.methods import METHODS  # the methods import this module

    if method not in METHODS.names():
        return {}
    return dict(METHODS.get(method).train_defaults)


def preset_values(name: str) -> dict[str, Any]:
    """The overrides of preset ``name``; an unknown name raises ``ConfigError``."""
    if name not in PRESETS:
        raise ConfigError(f"preset = {name!r}: unknown (known: {', '.join(sorted(PRESETS))})")
    return PRESETS[name]


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """A new dict: ``base`` with ``override`` applied recursively (override wins)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def flatten(values: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dict -> ``{"a.b": v}``."""
    flat: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def unflatten(values: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": v}`` -> nested dict (the inverse of :func:`flatten`)."""
    nested: dict[str, Any] = {}
    for key, value in values.items():
        *parents, leaf = key.split(".")
        node = nested
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return nested


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    return value


def build_section(cls: type, values: Any, prefix: str) -> Any:
    """Dataclass ``cls`` from a mapping, keys and types checked, errors prefixed with ``prefix``
    (e.g. ``"method.options."``): how a method checks its own options."""
    return _build(cls, values, prefix)


def _build(cls: type, values: Any, prefix: str) -> Any:
    """Instantiate dataclass ``cls`` from ``values``, checking keys and types."""
    where = prefix.rstrip(".") or "config"
    if isinstance(values, cls):
        return values
    if not isinstance(values, dict):
        raise ConfigError(f"{where} = {values!r}: expected a mapping")
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(
            f"{prefix}{unknown[0]}: unknown key (known in {where}: {', '.join(sorted(known))})"
        )
    kwargs = {}
    for name, value in values.items():
        kwargs[name] = _coerce(hints[name], value, f"{prefix}{name}")
    return cls(**kwargs)


def _coerce(hint: Any, value: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` (int, float, bool, str, tuple[str, ...], dataclass)."""
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, f"{key}.")
    origin = typing.get_origin(hint)
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{key} = {value!r}: expected a mapping")
        return dict(value)
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{key} = {value!r}: expected a list of strings")
        return tuple(value)
    if origin in (typing.Union, types.UnionType):
        raise TypeError(f"{key}: union types are not supported in configs")
    if hint is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{key} = {value!r}: expected true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key} = {value!r}: expected an integer")
        return value
    if hint is float:
        if isinstance(value, str):  # YAML 1.1 reads 1e-3 (no dot) as a string
            try:
                return float(value)
            except ValueError:
                raise ConfigError(f"{key} = {value!r}: expected a number") from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{key} = {value!r}: expected a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ConfigError(f"{key} = {value!r}: expected a string")
        return value
    raise TypeError(f"{key}: unsupported config type {hint!r}")
