"""Trial speed, measured side by side in one process: our pipeline against a PALM-style loop, the
step time against the hardware floor, SEPT's cost, and peak memory.

    python benchmarks/trial_speed.py                           # TinyALM
    python benchmarks/trial_speed.py --backbone pengi-random   # Pengi's shapes, random weights

On one dataset of the built-in world (synthesized on first use), one seed, for CoOp and CoOp+SEPT:

(a) one b2n trial with our pipeline (audio embedded once into the cache; prompts tokenized once and
    padded to the longest; the start token and context run once for every prompt on a causal
    text tower) against a PALM-style loop on the same data and seed: the frozen audio tower runs on
    every batch and on the test clips at every evaluation, prompts are padded to 40 tokens and run
    whole. Two PALM variants: the audio tower's parameters still requiring grad (as PALM's code
    leaves them) and under no-grad. H must come out equal (asserted).
(b) the floor of a training step: the minimal FLOPs of the text tower's forward and input-gradient
    backward over only the positions that must be computed, divided by the fp32 matmul rate
    measured in this run; printed as measured step time / floor.
(c) CoOp+SEPT / CoOp training time, exact and with one sampled neighbour per class per step.
Peak RSS of each trial is printed too.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from sept_ray.backbones import build_backbone
from sept_ray.backbones.base import TokenBatch
from sept_ray.config import TrialConfig
from sept_ray.data.audio import load_clip
from sept_ray.data.synth.world import ensure_world
from sept_ray.features import EmbeddingCache
from sept_ray.methods import AudioBatch, PromptSet, build_method
from sept_ray.metrics import accuracy, harmonic_mean
from sept_ray.protocols import build_task
from sept_ray.sept import SemanticExpansion, load_bank
from sept_ray.train import run_trial

PALM_PAD = 40  # PALM pads every prompt to 40 tokens


def config(args, root: Path, out: Path, sept: bool, **sept_options) -> TrialConfig:
    return TrialConfig.from_dict(
        {
            "data": {"name": args.dataset, "root": str(root), "shots": args.shots},
            "backbone": {"name": args.backbone, "device": "cpu"},
            "method": {"name": "coop"},
            "sept": {"enabled": sept, **sept_options},
            "train": {"epochs": args.epochs, "seed": 0, "time_inference": False},
            "output_dir": str(out),
            "cache_dir": str(out.parent / "cache"),
        }
    )


def padded(prompts: PromptSet, backbone, length: int) -> PromptSet:
    """``prompts`` right-padded to ``length`` tokens (PALM's fixed prompt length)."""
    batch = prompts.batch
    extra = max(length - batch.ids.shape[1], 0)
    ids = F.pad(batch.ids, (0, extra), value=0)  # masked keys after every real token: any id
    mask = F.pad(batch.mask, (0, extra), value=0)
    wide = TokenBatch(ids, mask, batch.pool_index, batch.ctx_start, batch.n_ctx)
    with torch.no_grad():
        embeds = backbone.token_embedding(ids)
    return replace(prompts, batch=wide, embeds=embeds)


def waves(backbone, root: Path, paths) -> torch.Tensor:
    return torch.from_numpy(
        np.stack([load_clip(root / p, backbone.sample_rate, backbone.clip_seconds) for p in paths])
    )


def audio_of(backbone, root, paths, with_grad: bool) -> AudioBatch:
    """The frozen audio tower on ``paths`` (decoded now): with its parameters requiring grad and
    autograd on (PALM's code), or under no-grad."""
    if with_grad:
        return AudioBatch(backbone.audio_features(waves(backbone, root, paths)))
    with torch.no_grad():
        return AudioBatch(backbone.audio_features(waves(backbone, root, paths)))


def palm_style_trial(cfg: TrialConfig, backbone, with_grad: bool) -> tuple[float, float]:
    """(H, seconds) of a PALM-style loop: the same seeded draws as our trial (shots, init, order),
    the audio tower on every batch and every evaluation, prompts padded to 40 tokens and run
    whole (no shared prefix)."""
    started = time.perf_counter()
    cfg = replace(cfg, method=replace(cfg.method, share_prefix=False))
    task = build_task(cfg)
    root = task.split.root
    generator = torch.Generator().manual_seed(cfg.train.seed)
    learner = build_method(cfg.method, backbone, task.template, task.train_classes, generator)
    base_prompts = padded(learner.prompts(list(task.seen.classes)), backbone, PALM_PAD)
    new_prompts = padded(learner.prompts(list(task.unseen.classes)), backbone, PALM_PAD)
    expansion = None
    if cfg.sept.enabled:
        bank = load_bank(cfg.sept.bank, cfg.data.name)
        expansion = SemanticExpansion.build(
            learner, cfg.sept, bank, cfg.data.name, task.train_classes, task.template, generator
        )
        expansion.neighbour_prompts = padded(expansion.neighbour_prompts, backbone, PALM_PAD)
    shots = [c.path for c in task.shots]
    labels = torch.tensor([task.train_classes.index(c.classname) for c in task.shots])
    optimizer = torch.optim.SGD(
        learner.param_groups(cfg.train.lr),
        lr=cfg.train.lr,
        momentum=cfg.train.momentum,
        weight_decay=cfg.train.weight_decay,
    )
    if with_grad:  # PALM leaves the frozen tower's parameters requiring grad
        for parameter in backbone.parameters():
            parameter.requires_grad_(True)
    try:
        h = 0.0
        for _ in range(cfg.train.epochs):
            order = torch.randperm(len(shots), generator=generator)
            for start in range(0, len(shots), cfg.train.batch_size):
                pick = order[start : start + cfg.train.batch_size]
                audio = audio_of(backbone, root, [shots[i] for i in pick], with_grad)
                out = learner(audio, base_prompts, labels[pick])
                ce = F.cross_entropy(out.logits, labels[pick])
                loss = out.ce_weight * ce + sum(out.aux_losses.values(), torch.zeros(()))
                if expansion is not None:
                    loss = loss + expansion(out, base_prompts, audio)[0]
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
            scores = []
            for group, prompts, seen in (
                (task.seen, base_prompts, True),
                (task.unseen, new_prompts, False),
            ):
                audio = audio_of(backbone, root, [c.path for c in group.clips], False)
                truth = torch.tensor([group.classes.index(c.classname) for c in group.clips])
                with torch.no_grad():
                    scores.append(accuracy(learner.predictor(prompts, seen)(audio), truth))
            h = harmonic_mean(*scores)
    finally:
        for parameter in backbone.parameters():
            parameter.requires_grad_(False)
            parameter.grad = None
    return h, time.perf_counter() - started


def matmul_gflops(shape: tuple[int, int, int] = (2048, 2048, 2048), repeats: int = 20) -> float:
    """fp32 matmul rate of this machine now: median over ``repeats`` of an [m, k] x [k, n]
    product, ``shape`` = (m, k, n); GFLOP/s."""
    m, k, n = shape
    a, b = torch.randn(m, k), torch.randn(k, n)
    a @ b  # warm-up
    times = []
    for _ in range(repeats):
        tic = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - tic)
    return 2 * m * k * n / statistics.median(times) / 1e9


def tower_shape(backbone) -> tuple[int, int, int, bool]:
    """(layers, width W, feed-forward width F, causal) of the backbone's text tower."""
    if backbone.name.startswith("pengi"):
        c = backbone.caption_encoder.config
        return c.num_hidden_layers, c.hidden_size, c.intermediate_size, True
    c = backbone.text.model.config  # TinyALM's MiniLM (BERT: bidirectional)
    return c.num_hidden_layers, c.hidden_size, c.intermediate_size, False


def floor_flops(backbone, batches: list[TokenBatch], prefix: int) -> tuple[float, int]:
    """Minimal FLOPs of one step's text tower: forward + input-gradient backward (= 2 x forward:
    the weights are frozen, so no weight gradients) over the positions that must be computed:
    on a causal tower the shared prefix once and each row's real tokens after it, else every
    real token of every row; attention over the keys each query may see. Returns (FLOPs, the
    number of positions computed)."""
    layers, width, ffn, causal = tower_shape(backbone)
    tokens = pairs = 0
    if causal:
        tokens += prefix
        pairs += prefix * (prefix + 1) // 2
    for batch in batches:
        for length in batch.mask.sum(dim=1).tolist():
            if causal:
                tokens += length - prefix
                pairs += sum(range(prefix + 1, length + 1))
            else:
                tokens += length
                pairs += length * length
    per_layer = tokens * 2 * (4 * width * width + 2 * width * ffn) + pairs * 2 * 2 * width
    return 2.0 * layers * per_layer, tokens


def step_seconds(cfg: TrialConfig, backbone, root: Path, steps: int) -> tuple[float, float, int]:
    """(median seconds of one training step of our pipeline, its floor FLOPs, positions computed
    per layer): a batch of cached
    audio, the class prompts (+ SEPT's neighbours), forward, backward, SGD step."""
    task = build_task(cfg)
    generator = torch.Generator().manual_seed(0)
    learner = build_method(cfg.method, backbone, task.template, task.train_classes, generator)
    prompts = learner.prompts(list(task.train_classes))
    expansion = None
    batches = [prompts.batch]
    if cfg.sept.enabled:
        bank = load_bank(cfg.sept.bank, cfg.data.name)
        expansion = SemanticExpansion.build(
            learner, cfg.sept, bank, cfg.data.name, task.train_classes, task.template, generator
        )
        batches.append(expansion.neighbour_prompts.batch)
    embeddings = EmbeddingCache(cfg.cache_dir).load(backbone, root / cfg.data.name)
    rows = embeddings.rows([c.path for c in task.shots][: cfg.train.batch_size])
    audio = AudioBatch(embeddings.center[rows])
    labels = torch.tensor(
        [task.train_classes.index(c.classname) for c in task.shots][: cfg.train.batch_size]
    )
    optimizer = torch.optim.SGD(learner.parameters(), lr=cfg.train.lr, momentum=0.9)
    times = []
    for _ in range(steps + 1):
        tic = time.perf_counter()
        drawn = expansion.draw() if expansion is not None else None  # as the trainer steps
        out = learner(audio, prompts, labels, extra=drawn.prompts if drawn else None)
        loss = F.cross_entropy(out.logits, labels)
        if expansion is not None:
            loss = loss + expansion(out, prompts, audio, drawn)[0]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - tic)
    prefix = prompts.batch.ctx_start + prompts.batch.n_ctx
    return statistics.median(times[1:]), *floor_flops(backbone, batches, prefix)


def pass_seconds(cfg: TrialConfig, backbone, repeats: int = 12) -> tuple[float, float]:
    """(median seconds of encoding the class prompts and SEPT's neighbours in two passes, in one
    pass), forward and backward, alternating so both see the same machine state."""
    task = build_task(cfg)
    generator = torch.Generator().manual_seed(0)
    learner = build_method(cfg.method, backbone, task.template, task.train_classes, generator)
    prompts = learner.prompts(list(task.train_classes))
    bank = load_bank(cfg.sept.bank, cfg.data.name)
    expansion = SemanticExpansion.build(
        learner, cfg.sept, bank, cfg.data.name, task.train_classes, task.template, generator
    )
    neighbours = expansion.neighbour_prompts

    def two() -> None:
        (learner.encode(prompts).sum() + learner.encode(neighbours).sum()).backward()

    def one() -> None:
        learner.encode(prompts.concat(neighbours)).sum().backward()

    times: dict = {two: [], one: []}
    for _ in range(repeats):
        for run in (two, one):
            tic = time.perf_counter()
            run()
            times[run].append(time.perf_counter() - tic)
    return statistics.median(times[two]), statistics.median(times[one])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backbone", default="tiny-alm", help="tiny-alm or pengi-random")
    parser.add_argument("--dataset", default="SynthInstruments", help="a built-in dataset")
    parser.add_argument("--shots", type=int, default=8, help="shots per base class (default 8)")
    parser.add_argument("--epochs", type=int, default=3, help="training epochs (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps for (b) (default 10)")
    parser.add_argument("--work", type=Path, default=None, help="scratch folder (default: tmp)")
    parser.add_argument(
        "--skip-palm", action="store_true", help="skip (a), the PALM-style loops (minutes on Pengi)"
    )
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="trial_speed_"))
    root = ensure_world(work / "data", [args.dataset])
    backbone = build_backbone(config(args, root, work / "t", False).backbone)
    print(
        f"backbone {backbone.name}, dataset {args.dataset}, {args.shots} shots, "
        f"{args.epochs} epochs, {torch.get_num_threads()} threads"
    )

    tic = time.perf_counter()
    EmbeddingCache(work / "cache").load(backbone, root / args.dataset)
    cache_s = time.perf_counter() - tic
    print(f"audio-embedding cache of {args.dataset}: {cache_s:.1f} s (once per dataset)")

    if not args.skip_palm:
        print("\n(a) one b2n trial: ours vs a PALM-style loop (same data, seed; equal H asserted)")
    ours = {}  # our trials first, so their peak memory is not the PALM loops'
    for name, sept in (("coop", False), ("coop+sept", True)):
        cfg = config(args, root, work / name, sept)
        tic = time.perf_counter()
        ours[name] = (cfg, run_trial(cfg), time.perf_counter() - tic)
    header = f"{'method':<11}{'ours s':>8}{'PALM s':>9}{'no-grad s':>10}{'x PALM':>8}"
    if not args.skip_palm:
        print(header + f"{'x no-grad':>10}{'x incl. cache':>15}{'H':>8}{'peak MB':>9}")
    for name, (cfg, result, seconds) in ours.items():
        if args.skip_palm:
            print(
                f"{name}: our trial {seconds:.1f} s, H {result.h:.2f}, "
                f"peak {result.peak_rss_mb:.0f} MB"
            )
            continue
        h_grad, palm = palm_style_trial(cfg, backbone, with_grad=True)
        h_nograd, palm_nograd = palm_style_trial(cfg, backbone, with_grad=False)
        assert round(h_grad, 2) == round(result.h, 2) == round(h_nograd, 2), (
            f"{name}: H differs: ours {result.h}, PALM-style {h_grad} / {h_nograd}"
        )
        print(
            f"{name:<11}{seconds:>8.1f}{palm:>9.1f}{palm_nograd:>10.1f}{palm / seconds:>8.1f}"
            f"{palm_nograd / seconds:>10.1f}{palm / (seconds + cache_s):>15.1f}"
            f"{result.h:>8.2f}{result.peak_rss_mb:>9.0f}"
        )
    ours_seconds = {name: result.train_seconds for name, (_, result, _) in ours.items()}

    rate = matmul_gflops()
    _, width, ffn, _ = tower_shape(backbone)
    print(f"\n(b) a training step against the floor (fp32 matmul rate here: {rate:.0f} GFLOP/s)")
    print("    floor = minimal FLOPs / that rate; 'at its shapes': / the rate of a matmul of the")
    print("    step's own size ([tokens, W] x [W, F]), what small matrices can reach here")
    print(
        f"{'method':<11}{'step ms':>9}{'floor ms':>10}{'step/floor':>12}{'tokens':>8}"
        f"{'GFLOP/s at its shapes':>23}{'step/that floor':>17}"
    )
    for name, sept in (("coop", False), ("coop+sept", True)):
        cfg = config(args, root, work / f"{name}-step", sept)
        seconds, flops, tokens = step_seconds(cfg, backbone, root, args.steps)
        floor = flops / (rate * 1e9)
        small = matmul_gflops(shape=(tokens, width, ffn))
        print(
            f"{name:<11}{seconds * 1e3:>9.1f}{floor * 1e3:>10.1f}{seconds / floor:>12.2f}"
            f"{tokens:>8}{small:>23.0f}{seconds / (flops / (small * 1e9)):>17.2f}"
        )

    two, one = pass_seconds(config(args, root, work / "passes", True), backbone)
    print(
        f"SEPT's text-tower pass, forward + backward: class and neighbour prompts in two passes "
        f"{two * 1e3:.1f} ms, in one {one * 1e3:.1f} ms ({two / one:.2f}x)"
    )

    print("\n(c) CoOp+SEPT / CoOp training time (trial train_seconds)")
    sampled = run_trial(config(args, root, work / "sampled", True, sample_neighbors=1))
    print(
        f"exact: {ours_seconds['coop+sept'] / ours_seconds['coop']:.2f}x; "
        f"one sampled neighbour per class per step: "
        f"{sampled.train_seconds / ours_seconds['coop']:.2f}x (H {sampled.h:.2f})"
    )


if __name__ == "__main__":
    main()
