"""What a sweep script (``sweeps/<study>.py``) is made of: the study's parser, ``main`` and the
process entry point, all looked up in :data:`~sept_ray.studies.base.STUDIES` by name.

A study registered by a plugin module gets a script the same way (import the module first)::

    import my_study  # registers "my-study"
    from sept_ray.studies.script import run_script
    run_script("my-study")
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from sept_ray.config import ConfigError
from sept_ray.studies.base import STUDIES
from sept_ray.tune.cache_fill import CacheFillError
from sept_ray.tune.cli import add_common_args, parse_study_args, study_parser


def study_parser_of(name: str) -> argparse.ArgumentParser:
    """The parser of study ``name``'s sweep: its docstring as help, its own options, then the
    common ones (with the study's own defaults for those)."""
    study = STUDIES.get(name)
    parser = study_parser(study.doc)
    study.add_options(parser)
    add_common_args(parser)
    parser.set_defaults(**study.option_defaults)
    return parser


def study_main(name: str, argv: list[str] | None = None) -> int:
    """Parse ``argv`` (default the command line) for study ``name`` and run its sweep; the exit
    code."""
    args = parse_study_args(study_parser_of(name), argv, name)
    return STUDIES.get(name).sweep(args, argv)


def run_script(name: str) -> None:
    """Run study ``name``'s sweep as a process (:func:`script_main`)."""
    script_main(name, lambda: study_main(name))


def script_main(name: str, main: Callable[[], int]) -> None:
    """Exit with ``main``'s code; bad input ends it with one line naming the culprit, prefixed
    ``<name>: error:`` (exit code 2)."""
    try:
        sys.exit(main())
    except (ConfigError, CacheFillError, FileNotFoundError, ValueError, KeyError) as exc:
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"{name}: error: {message}", file=sys.stderr)
        sys.exit(2)
