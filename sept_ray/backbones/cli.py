"""``sept backbones``: every registered backbone with its default weights, and every registered
set of weights with its source, size and whether a local copy is present."""

from __future__ import annotations

import argparse

from sept_ray.backbones.checkpoints import CACHE_ENV, WEIGHTS, default_weights, weights_dir


def _size(size_mb: float) -> str:
    return f"{size_mb:,.0f} MB" if size_mb else "?"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def backbone_listing() -> list[str]:
    """The lines ``sept backbones`` prints."""
    from sept_ray.backbones import BACKBONES

    rows = []
    for name in BACKBONES.names():
        source = default_weights(name)
        if source is None:
            rows.append([name, "-", "-", "-", "built in (no download)"])
        else:
            local = "yes" if source.local_path().exists() else "no"
            rows.append([name, source.name, _size(source.size_mb), local, source.where])
    lines = _table(["backbone", "default weights", "size", "local", "source"], rows)
    lines += ["", f"weights (local copies in {weights_dir()}; ${CACHE_ENV} moves them)"]
    rows = [
        [
            source.name,
            source.backbone,
            source.kind,
            _size(source.size_mb),
            "yes" if source.local_path().exists() else "no",
            source.where,
        ]
        for source in map(WEIGHTS.get, WEIGHTS.names())
    ]
    lines += _table(["name", "backbone", "kind", "size", "local", "source"], rows)
    lines += [
        "",
        "backbone.weights: a registered name, a local file or folder (laion-clap: a hub id too)",
    ]
    return lines


def cmd_backbones(args: argparse.Namespace) -> None:
    print("\n".join(backbone_listing()))


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``sept backbones`` to the ``sept`` command's sub-commands."""
    listing = commands.add_parser(
        "backbones", help="registered backbones and weights: source, size, local copy"
    )
    listing.set_defaults(func=cmd_backbones)
