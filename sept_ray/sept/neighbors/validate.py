"""Rules a neighbour phrase must pass, for generated and shipped banks alike.

A phrase is normalised (lower case, single spaces, no surrounding quotes or trailing full stop) and
then kept only if it is short (at most ``max_words`` words and ``max_chars`` characters), holds a
letter and no markup characters, and is neither a repeat, the class's own name, nor another class's
name. Class names compare with ``_`` read as a space (``city_center`` = ``city center``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sept_ray.sept.bank import NeighbourBank

MARKUP = re.compile(r"[{}\[\]<>|\\\"`*#=\n\r\t]")


@dataclass(frozen=True)
class PhraseRules:
    """Length limits of a neighbour phrase (a short phrase a text encoder reads whole)."""

    max_words: int = 6
    max_chars: int = 60


def normalise(phrase: str) -> str:
    """Lower case, whitespace collapsed to single spaces, quotes and a trailing full stop removed."""
    text = " ".join(phrase.lower().split())
    return text.strip("'\u2018\u2019\u201c\u201d ").rstrip(".").strip()


def class_key(name: str) -> str:
    """How class names and phrases compare: normalised, ``_`` read as a space."""
    return " ".join(normalise(name).replace("_", " ").split())


@dataclass
class Screened:
    """The outcome of screening candidates: phrases kept in order, and each rejected one's reason."""

    kept: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def reject_reason(
    phrase: str, own: str, others: set[str], seen: set[str], rules: PhraseRules
) -> str:
    """Why the normalised ``phrase`` is not a valid neighbour of class ``own``; "" if it is."""
    key = class_key(phrase)
    if not phrase:
        return "empty"
    if len(phrase.split()) > rules.max_words or len(phrase) > rules.max_chars:
        return f"longer than {rules.max_words} words or {rules.max_chars} characters"
    if MARKUP.search(phrase) or not any(ch.isalpha() for ch in phrase):
        return "not a plain phrase"
    if key == class_key(own):
        return "the class's own name"
    if key in others:
        return "another class's name"
    if key in seen:
        return "duplicate"
    return ""


def screen(
    candidates: Iterable[object],
    own: str,
    classes: Sequence[str],
    accepted: Sequence[str] = (),
    rules: PhraseRules = PhraseRules(),
) -> Screened:
    """Normalise ``candidates`` (answers of the LLM for class ``own`` of ``classes``) and keep the
    valid ones that ``accepted`` (phrases kept before) does not already hold."""
    others = {class_key(c) for c in classes if c != own}
    seen = {class_key(p) for p in accepted}
    out = Screened()
    for candidate in candidates:
        phrase = normalise(candidate) if isinstance(candidate, str) else ""
        reason = reject_reason(phrase, own, others, seen, rules)
        if reason:
            out.rejected[phrase or repr(candidate)] = reason
        else:
            out.kept.append(phrase)
            seen.add(class_key(phrase))
    return out


def bank_problems(
    bank: NeighbourBank,
    dataset: str,
    classes: Sequence[str],
    n_min: int,
    rules: PhraseRules = PhraseRules(),
) -> list[str]:
    """Every way ``bank``'s entry for ``dataset`` fails the phrase rules for ``classes``: a class
    missing or extra, fewer than ``n_min`` phrases, a phrase not in normal form or rejected."""
    entries = bank.datasets.get(dataset)
    if entries is None:
        return [f"{bank.source}: no dataset {dataset!r}"]
    problems = [f"{dataset}: class {c!r} missing" for c in classes if c not in entries]
    problems += [
        f"{dataset}: class {c!r} is not in the dataset" for c in entries if c not in classes
    ]
    for name in (c for c in classes if c in entries):
        phrases = entries[name]
        if len(phrases) < n_min:
            problems.append(f"{dataset}/{name}: {len(phrases)} phrases, {n_min} needed")
        problems += [
            f"{dataset}/{name}: {p!r} is not normalised" for p in phrases if p != normalise(p)
        ]
        result = screen(phrases, name, classes, rules=rules)
        problems += [f"{dataset}/{name}: {p!r}: {why}" for p, why in result.rejected.items()]
    return problems
