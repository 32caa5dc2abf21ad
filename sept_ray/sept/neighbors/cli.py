"""``sept neighbors generate|show|diff|check``: the neighbour-bank commands of the ``sept`` CLI."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_generate(args: argparse.Namespace) -> None:
    from sept_ray.data.catalog import dataset_template
    from sept_ray.sept.neighbors.cache import AnswerCache, default_cache_dir
    from sept_ray.sept.neighbors.client import ChatClient, ServerConfig
    from sept_ray.sept.neighbors.generate import (
        GenerationConfig,
        dataset_classes,
        generate_bank,
    )
    from sept_ray.sept.neighbors.prompt import task_of

    if not args.dataset and not args.classes:
        raise ValueError("name the classes: --dataset NAME and/or --classes FILE")
    if args.classes:
        lines = Path(args.classes).read_text(encoding="utf-8").splitlines()
        classes = [line.strip() for line in lines if line.strip()]
    else:
        classes = dataset_classes(args.dataset, args.data_root)
    dataset = args.dataset or Path(args.classes).stem
    out = args.out or Path(f"{dataset}.neighbours.json")
    server = ServerConfig(
        model=args.model,
        base_url=args.base_url,
        timeout_s=args.timeout,
        retries=args.retries,
        backoff_s=args.backoff,
        response_format=args.response_format,
    )
    client = ChatClient(server)
    cache = AnswerCache(args.cache or default_cache_dir())
    task = args.task or task_of(dataset, dataset_template(dataset))
    print(
        f"{dataset}: {len(classes)} classes, {args.n} neighbours each, {args.model} at {client.server}"
    )

    def report(index: int, result) -> None:
        source = f"{result.calls} new answer(s)" if result.calls else "from the cache"
        print(
            f"[{index + 1}/{len(classes)}] {result.cls}: {len(result.phrases)} phrases ({source})",
            flush=True,
        )

    cfg = GenerationConfig(n=args.n, max_rounds=args.max_rounds)
    generate_bank(client, cache, dataset, task, classes, cfg, out, on_class=report)
    print(f"bank: {out} ({client.requests} request(s) to the server; raw answers in {cache.root})")


def cmd_show(args: argparse.Namespace) -> None:
    from sept_ray.sept.neighbors.views import open_bank, show_lines

    print("\n".join(show_lines(open_bank(args.name), args.name, args.cls)))


def cmd_diff(args: argparse.Namespace) -> None:
    from sept_ray.sept.neighbors.views import diff_lines, open_bank

    print("\n".join(diff_lines(open_bank(args.a), open_bank(args.b))))


def cmd_check(args: argparse.Namespace) -> None:
    from sept_ray.data.catalog import DATASETS
    from sept_ray.sept.neighbors.generate import dataset_classes
    from sept_ray.sept.neighbors.validate import bank_problems
    from sept_ray.sept.neighbors.views import open_bank

    bank = open_bank(args.bank)
    problems = []
    for dataset, entries in bank.datasets.items():
        known = args.data_root or dataset in DATASETS  # else the bank's own classes are all
        classes = dataset_classes(dataset, args.data_root) if known else list(entries)
        problems += bank_problems(bank, dataset, classes, args.n)
    if problems:
        raise ValueError(f"{bank.source}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    print(f"{bank.source}: valid ({len(bank.datasets)} dataset(s), >= {args.n} phrases per class)")


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Add ``neighbors`` and its sub-commands to the ``sept`` parser's sub-commands."""
    parser = commands.add_parser(
        "neighbors", help="SEPT neighbour banks: generate, show, diff, check"
    )
    sub = parser.add_subparsers(dest="sub", required=True)

    gen = sub.add_parser(
        "generate",
        help="ask an LLM (OpenAI API or a compatible server) for each class's neighbours",
        description="Key from OPENAI_API_KEY; server from --base-url, else OPENAI_BASE_URL.",
    )
    gen.add_argument(
        "--dataset",
        default="",
        help="dataset name (classes from --data-root, the built-in world or a shipped bank)",
    )
    gen.add_argument(
        "--classes",
        type=Path,
        help="file with one class name a line (dataset name: --dataset, else the file's stem)",
    )
    gen.add_argument(
        "--data-root",
        default="",
        help="folder holding the dataset (PALM layout) to read its classes",
    )
    gen.add_argument(
        "--task", default="", help="the task line of the prompt (default: the dataset's own)"
    )
    gen.add_argument("--n", type=int, default=20, help="phrases per class (default 20)")
    gen.add_argument("--model", required=True, help="model name on the server, e.g. gpt-4o")
    gen.add_argument(
        "--base-url", default="", help="OpenAI-compatible server, e.g. http://localhost:8000/v1"
    )
    gen.add_argument(
        "--out", type=Path, help="bank file to write (default <dataset>.neighbours.json)"
    )
    gen.add_argument(
        "--cache", type=Path, help="answer cache folder (default ~/.cache/sept_ray/neighbours)"
    )
    gen.add_argument(
        "--timeout", type=float, default=120.0, help="seconds per request (default 120)"
    )
    gen.add_argument(
        "--retries", type=int, default=5, help="retries on 429, 5xx, timeouts (default 5)"
    )
    gen.add_argument(
        "--backoff", type=float, default=1.0, help="first retry wait in s, doubling (default 1)"
    )
    gen.add_argument(
        "--max-rounds",
        type=int,
        default=4,
        help="answers asked per class before failing (default 4)",
    )
    gen.add_argument(
        "--response-format",
        choices=["auto", "json_schema", "none"],
        default="auto",
        help="structured output: auto (JSON schema, plain JSON if refused), json_schema, none",
    )
    gen.set_defaults(func=cmd_generate)

    show = sub.add_parser(
        "show", help="a bank's phrases: NAME = dataset with a shipped bank, or a bank file"
    )
    show.add_argument("name")
    show.add_argument("--class", dest="cls", default="", help="only this class, numbered")
    show.set_defaults(func=cmd_show)

    diff = sub.add_parser(
        "diff", help="phrases removed/added between banks A and B (files or datasets)"
    )
    diff.add_argument("a")
    diff.add_argument("b")
    diff.set_defaults(func=cmd_diff)

    check = sub.add_parser(
        "check", help="validate a bank's phrases (the rules generated banks pass)"
    )
    check.add_argument("bank", help="bank file, or dataset with a shipped bank")
    check.add_argument("--n", type=int, default=20, help="phrases needed per class (default 20)")
    check.add_argument("--data-root", default="", help="check classes against the datasets here")
    check.set_defaults(func=cmd_check)
