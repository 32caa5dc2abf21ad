"""The ``sept`` command: built-in data, TinyALM pretraining, single trials, reports, listings.

Sweeps are scripts in ``sweeps/`` (``python sweeps/b2n.py --help``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from sept_ray.backbones.cli import add_commands as add_backbone_commands
from sept_ray.config import ConfigError, TrialConfig, deep_merge, read_yaml_mapping
from sept_ray.data.cli import add_commands as add_data_commands
from sept_ray.help_text import plain
from sept_ray.report.cli import add_commands as add_report_commands
from sept_ray.sept.neighbors.cli import add_commands as add_neighbor_commands


def cmd_data_synth(args: argparse.Namespace) -> None:
    from sept_ray.data.synth.world import BUILTIN_DATASETS, write_world

    names = args.datasets or list(BUILTIN_DATASETS)
    for folder in write_world(args.out, names, force=args.force):
        print(folder)


def cmd_tiny_alm_pretrain(args: argparse.Namespace) -> None:
    from sept_ray.backbones.tiny_pretrain import PretrainConfig, pretrain_tiny_alm

    cfg = PretrainConfig(clips=args.clips, epochs=args.epochs, seed=args.seed)
    report = pretrain_tiny_alm(cfg, args.out)
    print(json.dumps(report, indent=1))


def cmd_trial(args: argparse.Namespace) -> None:
    from sept_ray.train import run_trial
    from sept_ray.tune.cli import parse_overrides

    values = read_yaml_mapping(args.config)
    cfg = TrialConfig.from_dict(
        deep_merge(values, parse_overrides(args.overrides)), preset=args.preset
    )
    result = run_trial(
        cfg,
        on_epoch=lambda m, _state: print(
            f"epoch {m.epoch:3d}  loss {m.loss:.4f}  base {m.base:6.2f}  new {m.new:6.2f}  H {m.h:6.2f}",
            flush=True,
        ),
    )
    print(json.dumps(result.summary(), indent=1))
    print(f"artifacts: {result.output_dir}")


def cmd_methods(args: argparse.Namespace) -> None:
    """Each registered method with its trainable parameters on the chosen backbone, its options
    and the training settings it defaults to where its reference code differs."""
    import dataclasses

    import torch

    from sept_ray.backbones import build_backbone
    from sept_ray.config import BackboneConfig, MethodConfig, TrainConfig
    from sept_ray.methods import METHODS, build_method

    backbone = build_backbone(
        BackboneConfig(name=args.backbone, weights=args.weights, device="cpu")
    )
    classes = [f"class {i}" for i in range(args.classes)]
    print(
        f"backbone {backbone.name}: context width {backbone.ctx_width}, joint width "
        f"{backbone.embed_dim}; n_ctx {args.n_ctx}; {args.classes} training classes"
    )
    for name in METHODS.names():
        cfg = MethodConfig(name=name, n_ctx=args.n_ctx)
        learner = build_method(cfg, backbone, "{}", classes, torch.Generator().manual_seed(0))
        options = ", ".join(
            f"{f.name}={getattr(learner.options, f.name)}"
            for f in dataclasses.fields(learner.options)
        )
        train = {"lr": TrainConfig.lr, **learner.train_defaults}
        own = ", ".join(f"train.{k}={v}" for k, v in train.items()) if learner.trainable else ""
        print(f"{name:<10} {learner.n_trainable():>10,} params  {own}  {options}".rstrip())


def cmd_list(args: argparse.Namespace) -> None:
    from sept_ray.backbones import BACKBONES
    from sept_ray.data.catalog import DATASETS
    from sept_ray.methods import METHODS

    registry = {"methods": METHODS, "backbones": BACKBONES, "datasets": DATASETS}[args.what]
    for name in registry.names():
        print(name)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sept", description=plain(__doc__.splitlines()[0]))
    commands = parser.add_subparsers(dest="command", required=True)

    data = commands.add_parser("data", help="built-in and real datasets").add_subparsers(
        dest="sub", required=True
    )
    synth = data.add_parser(
        "synth", help="write the built-in sound world as WAV + CSVs (PALM layout)"
    )
    synth.add_argument("--out", type=Path, required=True, help="folder to hold the dataset folders")
    synth.add_argument("--datasets", nargs="+", help="subset of the built-in datasets")
    synth.add_argument("--force", action="store_true", help="rewrite datasets already present")
    synth.set_defaults(func=cmd_data_synth)
    add_data_commands(data)

    tiny = commands.add_parser("tiny-alm", help="the built-in TinyALM backbone")
    tiny_cmds = tiny.add_subparsers(dest="sub", required=True)
    pre = tiny_cmds.add_parser("pretrain", help="reproduce the shipped audio-tower weights")
    pre.add_argument("--out", type=Path, required=True, help="weights file to write (.safetensors)")
    pre.add_argument("--clips", type=int, default=2000, help="pretraining clips (default 2000)")
    pre.add_argument("--epochs", type=int, default=6, help="epochs (default 6)")
    pre.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    pre.set_defaults(func=cmd_tiny_alm_pretrain)

    trial = commands.add_parser("trial", help="run one trial from a YAML config (no Ray)")
    trial.add_argument(
        "config", type=Path, help="YAML with data/backbone/method/sept/train sections"
    )
    trial.add_argument(
        "--preset", default=None, help="demo or paper, applied under the file's values"
    )
    trial.add_argument("--set", dest="overrides", nargs="+", default=[], metavar="KEY=VALUE")
    trial.set_defaults(func=cmd_trial)

    methods = commands.add_parser("methods", help="methods and their trainable parameter counts")
    methods.add_argument("--backbone", default="tiny-alm", help="registered backbone")
    methods.add_argument("--weights", default="", help="backbone weights (default: its own)")
    methods.add_argument("--classes", type=int, default=5, help="training classes (default 5)")
    methods.add_argument("--n-ctx", type=int, default=16, help="context vectors (default 16)")
    methods.set_defaults(func=cmd_methods)

    listing = commands.add_parser("list", help="list registered methods, backbones or datasets")
    listing.add_argument("what", choices=["methods", "backbones", "datasets"])
    listing.set_defaults(func=cmd_list)
    add_backbone_commands(commands)

    add_neighbor_commands(commands)
    add_report_commands(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code = args.func(args)
    except (ConfigError, FileNotFoundError, KeyError, ValueError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"sept: error: {message}", file=sys.stderr)
        return 2
    return code or 0


if __name__ == "__main__":
    sys.exit(main())
