"""Docstrings shown as terminal help."""

from __future__ import annotations


def plain(doc: str) -> str:
    """``doc`` without reST literal markup: a double-backquoted name is shown bare."""
    return doc.replace("``", "")
