"""``sept data download|import|check``: the real-dataset commands of the ``sept`` CLI."""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

DEFAULT_ROOT = Path("results/data")


def cmd_download(args: argparse.Namespace) -> None:
    from sept_ray.data.hub import download_dataset

    print(download_dataset(args.name, args.root))


def cmd_import(args: argparse.Namespace) -> None:
    from sept_ray.data.importers import import_dataset

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = import_dataset(
            args.name, args.src, args.out_root, mode=args.mode, force=args.force
        )
    for warning in caught:
        print(f"sept: warning: {warning.message}", file=sys.stderr)
    placed = ", ".join(f"{n} {how}" for how, n in sorted(result.placed.items()))
    print(f"{result.folder}: {result.clips} clips ({placed}), {result.folds} fold(s)")


def cmd_check(args: argparse.Namespace) -> int:
    from sept_ray.data.check import check_dataset

    report = check_dataset(args.dir, decode=args.decode)
    print(report.render())
    return 1 if report.problems else 0


def add_commands(data: argparse._SubParsersAction) -> None:
    """Add ``download``, ``import`` and ``check`` to the ``sept data`` sub-commands."""
    from sept_ray.data.importers import IMPORTERS, LINK_MODES

    names = IMPORTERS.names()
    download = data.add_parser(
        "download", help="fetch one of the 11 datasets (PALM layout) from the Hugging Face hub"
    )
    download.add_argument("name", choices=names, help="dataset (hub repository MahiA/<name>)")
    download.add_argument(
        "--root", type=Path, default=DEFAULT_ROOT, help=f"datasets folder (default {DEFAULT_ROOT})"
    )
    download.set_defaults(func=cmd_download)

    sources = "\n".join(f"  {name}: {IMPORTERS.get(name).source}" for name in names)
    importer = data.add_parser(
        "import",
        help="convert an official distribution to the PALM layout",
        description="Write OUT_ROOT/NAME in the PALM layout from SRC_DIR, the unpacked official "
        f"distribution:\n{sources}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    importer.add_argument("name", choices=names, metavar="NAME", help="PALM dataset name")
    importer.add_argument("src", type=Path, metavar="SRC_DIR", help="the unpacked distribution")
    importer.add_argument("out_root", type=Path, metavar="OUT_ROOT", help="datasets folder")
    importer.add_argument(
        "--mode",
        choices=LINK_MODES,
        default="hardlink",
        help="how audio files are placed (default hardlink; copies across filesystems)",
    )
    importer.add_argument("--force", action="store_true", help="replace OUT_ROOT/NAME if present")
    importer.set_defaults(func=cmd_import)

    check = data.add_parser(
        "check", help="counts, audio formats and problems of a PALM-layout dataset folder"
    )
    check.add_argument("dir", type=Path, help="the dataset folder, e.g. results/data/ESC50")
    check.add_argument("--decode", action="store_true", help="also decode every clip (slower)")
    check.set_defaults(func=cmd_check)
