"""The offline CLIP-format BPE vocabulary that ``pengi-random`` tokenizes with.

OpenAI's CLIP vocabulary (49,408 tokens) is not available offline, so ``pengi-random`` ships a
small substitute trained with the ``tokenizers`` library on this project's own prompt text (every
registered dataset's template filled with each of its class names, plus the class names and
neighbour phrases of the built-in bank). It has CLIP's format and conventions, so transformers'
``CLIPTokenizer`` loads it unchanged: the same normalisation (NFC, whitespace, lower case) and
pre-tokenisation, byte-level symbols with ``</w>`` marking a word's end, ids laid out as CLIP lays
them out (256 byte symbols, the same 256 ending a word, one token per merge in merge order, then
``<|startoftext|>`` and ``<|endoftext|>`` last). It differs only in having ~1,000 merges instead of
48,894: words outside the corpus split into more pieces, and ids mean other strings than in CLIP.

The shipped files (``weights/clip_offline_bpe/``) are the reference: ``tokenizers``' trainer
breaks ties between equally frequent pairs in hash order, so retraining gives a vocabulary that is
equally valid but not byte-identical. Regenerate with ``python -m sept_ray.backbones.clip_vocab``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path

START_OF_TEXT = "<|startoftext|>"
END_OF_TEXT = "<|endoftext|>"
OFFLINE_MIN_FREQUENCY = 2  # pairs seen fewer times in the corpus are not merged


def offline_vocab_dir() -> Path:
    """The shipped vocabulary folder (``vocab.json``, ``merges.txt``), a CLIP tokenizer folder."""
    return Path(str(resources.files("sept_ray.backbones") / "weights" / "clip_offline_bpe"))


def byte_symbols() -> list[str]:
    """The 256 printable characters that stand for the 256 byte values in byte-level BPE, in
    CLIP's vocabulary order: first the bytes that are printable ASCII or Latin-1 (each stands for
    itself), then the other bytes in increasing order (standing for U+0100 onwards)."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1)]
    printable += range(ord("®"), ord("ÿ") + 1)
    others = [byte for byte in range(256) if byte not in printable]
    return [chr(code) for code in printable] + [chr(256 + i) for i in range(len(others))]


def clip_vocabulary(merges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """CLIP's id layout for a merge list: byte symbols, byte symbols + ``</w>``, one token per
    merge, then the start and end of text (the end of text gets the highest id)."""
    symbols = byte_symbols()
    tokens = [*symbols, *(s + "</w>" for s in symbols), *("".join(m) for m in merges)]
    tokens += [START_OF_TEXT, END_OF_TEXT]
    vocab = {token: i for i, token in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("clip_vocabulary: the merges produce a token twice")
    return vocab


def offline_corpus() -> list[str]:
    """The training text: each registered dataset's template filled with each of its classes,
    the class names, and the built-in bank's phrases; sorted, without duplicates."""
    from sept_ray.data.catalog import DATASETS
    from sept_ray.sept.bank import banks_dir, read_bank

    lines: set[str] = set()
    for name in DATASETS.names():
        info = DATASETS.get(name)
        lines.update(info.template.format(c) for c in info.classes)
        lines.update(info.classes)
    for phrases_by_class in read_bank(banks_dir() / "builtin.json").datasets.values():
        for name, phrases in phrases_by_class.items():
            lines.add(name)
            lines.update(phrases)
    return sorted(lines)


def train_clip_bpe(
    corpus: Iterable[str], min_frequency: int = OFFLINE_MIN_FREQUENCY, max_merges: int = 48_894
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Learn byte-level BPE merges on ``corpus`` with CLIP's own normalisation and
    pre-tokenisation (those of transformers' ``CLIPTokenizer``) -> (vocab in CLIP's layout, merges)."""
    from tokenizers.trainers import BpeTrainer
    from transformers import CLIPTokenizer

    base = clip_vocabulary([])
    pipeline = CLIPTokenizer(vocab=base, merges=[]).backend_tokenizer  # normaliser + pre-tokeniser
    trainer = BpeTrainer(
        vocab_size=len(base) + max_merges,
        min_frequency=min_frequency,
        initial_alphabet=byte_symbols(),
        end_of_word_suffix="</w>",
        show_progress=False,
    )
    pipeline.train_from_iterator(list(corpus), trainer)
    merges = [tuple(pair) for pair in json.loads(pipeline.to_str())["model"]["merges"]]
    return clip_vocabulary(merges), merges


def write_clip_vocab(
    folder: str | Path, vocab: dict[str, int], merges: Sequence[tuple[str, str]]
) -> Path:
    """Write ``vocab.json`` and ``merges.txt`` (a folder ``CLIPTokenizer.from_pretrained`` reads)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=0) + "\n")
    lines = ["#version: 0.2", *(f"{a} {b}" for a, b in merges)]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n")
    return folder


if __name__ == "__main__":
    vocab, merges = train_clip_bpe(offline_corpus())
    print(
        f"{len(merges)} merges, {len(vocab)} tokens -> {write_clip_vocab(offline_vocab_dir(), vocab, merges)}"
    )
