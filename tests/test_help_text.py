"""Terminal help shows names bare, never reST markup: `sept --help` and every sweep's --help."""

import importlib
from pathlib import Path

import pytest

from sept_ray import cli
from sept_ray.help_text import plain


def test_plain_drops_literal_markup_only():
    assert plain("The ``sept`` command, ``base`` and *new*") == "The sept command, base and *new*"


def test_sept_help_has_no_markup():
    text = cli.build_parser().format_help()
    assert "The sept command" in text and "``" not in text


SCRIPTS = sorted(p.stem for p in (Path(__file__).parents[1] / "sweeps").glob("[!_]*.py"))


@pytest.mark.parametrize("study", SCRIPTS)
def test_sweep_help_has_no_markup(study):
    from sept_ray.studies import STUDIES

    module = importlib.import_module(f"sweeps.{study}")
    text = module.build_parser().format_help()
    assert "``" not in text and STUDIES.get(study).doc.splitlines()[0] in text
