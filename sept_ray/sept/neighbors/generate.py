"""Generate a neighbour bank with an LLM: ask, validate, top up, cache, write with provenance.

For each class the cached answers are replayed through :func:`~sept_ray.sept.neighbors.validate.screen`
first; then, while fewer than N valid phrases are held, the model is asked for the shortfall (at
most ``max_rounds`` answers per class and run), each raw answer cached as soon as it arrives. A class
still short fails the run with what came back. The bank is written atomically at the end.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sept_ray import __version__
from sept_ray.sept.bank import NeighbourBank, save_bank
from sept_ray.sept.neighbors.cache import AnswerCache, CacheKey
from sept_ray.sept.neighbors.client import ChatClient, ServerError
from sept_ray.sept.neighbors.prompt import (
    PROMPT_VERSION,
    AnswerError,
    NeighbourRequest,
    messages,
    parse_answer,
)
from sept_ray.sept.neighbors.validate import PhraseRules, screen


class GenerationError(ValueError):
    """A class could not get N valid neighbours; names the dataset, class and what came back."""


@dataclass(frozen=True)
class GenerationConfig:
    """N phrases per class, the answers a class may take in one run, and the phrase rules."""

    n: int = 20
    max_rounds: int = 4
    rules: PhraseRules = field(default_factory=PhraseRules)

    def __post_init__(self) -> None:
        if self.n < 1 or self.max_rounds < 1:
            raise ValueError(f"n = {self.n}, max_rounds = {self.max_rounds}: both must be >= 1")


@dataclass
class ClassNeighbours:
    """One class's outcome: its phrases and how many answers it took (``calls``: this run)."""

    cls: str
    phrases: list[str]
    calls: int
    cached_answers: int


@dataclass
class Collected:
    """Validated phrases of one class so far, what was rejected, and the last raw answer."""

    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    last: str = ""

    def take(self, content: str, cls: str, classes: Sequence[str], rules: PhraseRules) -> None:
        """Validate one raw answer and keep its new valid phrases."""
        self.last = content
        try:
            items = parse_answer(content)
        except AnswerError as exc:
            self.rejected[f"<answer: {exc}>"] = "unreadable"
            return
        screened = screen(items, cls, classes, self.accepted, rules)
        self.accepted += screened.kept
        self.rejected.update(screened.rejected)


def class_neighbours(
    client: ChatClient,
    cache: AnswerCache,
    dataset: str,
    task: str,
    classes: Sequence[str],
    cls: str,
    cfg: GenerationConfig,
) -> ClassNeighbours:
    """N valid neighbours of ``cls``: cached answers first, then new ones for the shortfall."""
    key = CacheKey(client.cfg.model, PROMPT_VERSION, dataset, cls)
    got = Collected()
    cached = cache.answers(key)
    for answer in cached:
        got.take(answer["content"], cls, classes, cfg.rules)
    calls = 0
    while len(got.accepted) < cfg.n:
        if calls == cfg.max_rounds:
            rejected = "; ".join(f"{p!r} ({why})" for p, why in list(got.rejected.items())[:30])
            raise GenerationError(
                f"dataset {dataset!r}, class {cls!r}: {len(got.accepted)} valid phrases of "
                f"{cfg.n} after {calls} answers from {client.cfg.model} (all answers: "
                f"{cache.path(key)}); kept: {got.accepted}; rejected: {rejected or 'none'}; "
                f"last answer: {got.last[:400]!r}"
            )
        request = NeighbourRequest(
            dataset, task, tuple(classes), cls, cfg.n - len(got.accepted), tuple(got.accepted)
        )
        try:
            content = client.complete(messages(request))
        except ServerError as exc:
            raise GenerationError(f"dataset {dataset!r}, class {cls!r}: {exc}") from None
        calls += 1
        cache.append(
            key,
            {
                "asked": request.count,
                "response_format": client.response_format,
                "content": content,
            },
        )
        got.take(content, cls, classes, cfg.rules)
    return ClassNeighbours(cls, got.accepted[: cfg.n], calls, len(cached))


def raw_answers(
    cache: AnswerCache, model: str, dataset: str, classes: Sequence[str]
) -> dict[str, str]:
    """Where the bank's raw answers sit inside any answer cache (``folder``, relative to the
    cache's root, so it means the same on every machine) and the SHA-256 of all of them
    (``sha256``, over each class's answers in class order), so a colleague can check that their
    cache holds the same answers."""
    keys = [CacheKey(model, PROMPT_VERSION, dataset, cls) for cls in classes]
    answers = {key.cls: cache.answers(key) for key in keys}
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()
    return {"folder": keys[0].relative_path().parent.as_posix(), "sha256": digest}


def generate_bank(
    client: ChatClient,
    cache: AnswerCache,
    dataset: str,
    task: str,
    classes: Sequence[str],
    cfg: GenerationConfig,
    out: str | Path,
    on_class: Callable[[int, ClassNeighbours], None] | None = None,
) -> NeighbourBank:
    """Neighbours for every class of ``dataset``, written to ``out`` with provenance; see module."""
    if len(set(classes)) != len(classes) or not classes:
        raise ValueError(f"dataset {dataset!r}: class names must be distinct and non-empty")
    entries = {}
    for index, cls in enumerate(classes):
        result = class_neighbours(client, cache, dataset, task, classes, cls, cfg)
        entries[cls] = result.phrases
        if on_class:
            on_class(index, result)
    provenance = {
        "generator": f"sept neighbors generate (sept_ray {__version__})",
        "model": client.cfg.model,
        "server": client.server,
        "prompt_version": PROMPT_VERSION,
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "response_format": client.response_format,
        "task": task,
        "raw_answers": raw_answers(cache, client.cfg.model, dataset, classes),
    }
    bank = NeighbourBank({dataset: entries}, provenance, str(out))
    save_bank(bank, out)
    return bank


def dataset_classes(dataset: str, data_root: str | Path = "") -> list[str]:
    """The class names of ``dataset``: from its manifest under ``data_root`` when given, else from
    the dataset catalog (the 11 paper datasets and the built-in world)."""
    if data_root:
        from sept_ray.data.manifest import load_split

        return list(load_split(data_root, dataset, 1).classes)
    from sept_ray.data.catalog import DATASETS

    if dataset in DATASETS and DATASETS.get(dataset).classes:
        return list(DATASETS.get(dataset).classes)
    raise ValueError(
        f"--dataset {dataset}: unknown here; pass --data-root (the folder holding {dataset}/) "
        "or --classes FILE (one class a line)"
    )
