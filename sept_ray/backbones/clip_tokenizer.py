"""CLIP's BPE tokenizer turned into prompts for a causal CLIP text tower (Pengi's caption encoder).

Pengi tokenizes a text with ``openai/clip-vit-base-patch16``'s tokenizer, ``max_length=40``,
padded to 40 with ``<|endoftext|>`` (attention mask 0) and truncated to 40 keeping both special
tokens: ``<|startoftext|>``, at most 38 text tokens, ``<|endoftext|>``; the text tower reads the
first ``<|endoftext|>``. :class:`ClipPrompts` builds the same rows with ``n_ctx`` context slots
after the start token (their id is that of ``x``, CoOp's placeholder), so the text keeps at most
``40 - 2 - n_ctx`` tokens, and pads only to the longest prompt of the batch: with the causal mask,
the state at the end-of-text position does not depend on the padding after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sept_ray.backbones.base import TokenBatch
from sept_ray.offline import is_offline

PENGI_MAX_TOKENS = 40  # Pengi's enc_text_len
PLACEHOLDER = "x</w>"  # the token "x" (a whole word), CoOp's context placeholder
MIN_VOCAB = 2 * 256 + 2  # byte-level symbols, alone and ending a word, and the two special tokens


def load_clip_tokenizer(source: str | Path):
    """``transformers.CLIPTokenizer`` from a folder (``vocab.json`` + ``merges.txt``, or a saved
    tokenizer) or a hub id. Raises ``FileNotFoundError`` naming ``source`` when it cannot be read
    or holds no vocabulary (transformers then builds a tokenizer of the special tokens alone)."""
    from transformers import CLIPTokenizer

    hint = "give a folder holding CLIP's vocab.json and merges.txt"
    try:
        tokenizer = CLIPTokenizer.from_pretrained(str(source), local_files_only=is_offline())
    except (OSError, ValueError) as error:
        first = str(error).splitlines()[0]
        raise FileNotFoundError(
            f"CLIP tokenizer {str(source)!r} could not be loaded ({first}): {hint}"
        ) from None
    if len(tokenizer) < MIN_VOCAB:
        raise FileNotFoundError(
            f"CLIP tokenizer {str(source)!r}: no vocabulary found ({len(tokenizer)} tokens): {hint}"
        )
    return tokenizer


class ClipPrompts:
    """Texts -> :class:`TokenBatch` rows ``<|startoftext|>, n_ctx x placeholders, text tokens,
    <|endoftext|>``, at most ``max_tokens`` long, right-padded with ``<|endoftext|>`` to the
    longest row; ``mask`` is 1 on real tokens, ``pool_index`` the end-of-text position."""

    def __init__(self, tokenizer, max_tokens: int = PENGI_MAX_TOKENS) -> None:
        self.tokenizer = tokenizer
        self.max_tokens = max_tokens
        self.start_id = int(tokenizer.bos_token_id)
        self.end_id = int(tokenizer.eos_token_id)
        self.pad_id = int(tokenizer.pad_token_id)
        self.placeholder_id = int(tokenizer.convert_tokens_to_ids(PLACEHOLDER))
        if self.placeholder_id == tokenizer.unk_token_id:
            raise ValueError(f"CLIP tokenizer: its vocabulary has no {PLACEHOLDER!r} token")

    def __call__(self, texts: Sequence[str], n_ctx: int = 0) -> TokenBatch:
        budget = self.max_tokens - 2 - n_ctx
        if n_ctx < 0 or budget < 0:
            raise ValueError(
                f"n_ctx = {n_ctx}: must be between 0 and {self.max_tokens - 2} "
                f"(prompts hold {self.max_tokens} tokens with the start and end tokens)"
            )
        if not texts:
            raise ValueError("ClipPrompts: no texts to tokenize")
        pieces = self.tokenizer(list(texts), add_special_tokens=False)["input_ids"]
        rows = [
            [self.start_id, *[self.placeholder_id] * n_ctx, *p[:budget], self.end_id]
            for p in pieces
        ]
        return TokenBatch.from_rows(rows, self.pad_id, ctx_start=1, n_ctx=n_ctx)
