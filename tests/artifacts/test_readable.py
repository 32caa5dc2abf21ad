"""Learned context vectors read as their nearest vocabulary tokens (sept_ray.artifacts.readable)."""

import math

import pytest
import torch

from sept_ray.artifacts.readable import nearest_tokens, prompt_text, prompt_tokens
from sept_ray.backbones.base import Vocabulary
from sept_ray.config import MethodConfig
from sept_ray.methods import build_method

TEMPLATE = "This is a sound of {}."


def names(ids):
    return [f"w{i}" for i in ids]


def unit_circle(degrees, radius=1.0):
    """Rows [len(degrees), 2] at the given angles."""
    return torch.tensor(
        [[radius * math.cos(math.radians(d)), radius * math.sin(math.radians(d))] for d in degrees]
    )


# -- numbers ------------------------------------------------------------------------------------


def test_rows_of_the_table_are_their_own_nearest_tokens():
    table = torch.randn(50, 8, generator=torch.Generator().manual_seed(0))
    contexts = nearest_tokens(table[[5, 17, 3]], table, names, k=4)
    assert [c["index"] for c in contexts] == [0, 1, 2]
    assert [c["tokens"][0]["id"] for c in contexts] == [5, 17, 3]
    assert [c["tokens"][0]["token"] for c in contexts] == ["w5", "w17", "w3"]
    for c in contexts:
        assert c["tokens"][0]["cosine"] == pytest.approx(1.0, abs=1e-6)
        assert c["nearest_l2"] == 0.0
        cosines = [t["cosine"] for t in c["tokens"]]
        assert len(cosines) == 4 and cosines == sorted(cosines, reverse=True)
        assert all(isinstance(t["id"], int) and isinstance(t["cosine"], float) for t in c["tokens"])


def test_a_perturbed_vector_ranks_tokens_by_angle_not_by_distance():
    # token 3 points exactly along the context but is far away: first by cosine, not by L2
    table = torch.cat([unit_circle([40, 10, -25]), unit_circle([0], radius=10.0)])
    ctx = unit_circle([2])  # 2 degrees from token 3, 8 from token 1, 27 from 2, 38 from 0
    (context,) = nearest_tokens(ctx, table, names, k=4)
    assert [t["id"] for t in context["tokens"]] == [3, 1, 2, 0]
    expected = [math.cos(math.radians(a)) for a in (2, 8, 27, 38)]
    assert [t["cosine"] for t in context["tokens"]] == pytest.approx(expected, abs=1e-6)
    assert context["nearest_l2"] == pytest.approx(float((ctx[0] - table[3]).norm()), abs=1e-5)
    assert context["nearest_l2"] > 8.9


def test_chunks_exclusions_and_k_larger_than_the_vocabulary():
    table = torch.randn(1000, 16, generator=torch.Generator().manual_seed(1))
    ctx = torch.randn(6, 16, generator=torch.Generator().manual_seed(2))
    whole = nearest_tokens(ctx, table, names, k=7, chunk=10_000)
    assert nearest_tokens(ctx, table, names, k=7, chunk=64) == whole
    scores = (
        torch.nn.functional.normalize(ctx, dim=-1)
        @ torch.nn.functional.normalize(table, dim=-1).t()
    )
    assert [[t["id"] for t in c["tokens"]] for c in whole] == scores.topk(7).indices.tolist()
    first = {c["tokens"][0]["id"] for c in whole}
    skipped = nearest_tokens(ctx, table, names, k=7, exclude=first, chunk=64)
    assert all(t["id"] not in first for c in skipped for t in c["tokens"])
    small = nearest_tokens(ctx[:1], table[:4], names, k=5, exclude=[2])
    assert sorted(t["id"] for t in small[0]["tokens"]) == [0, 1, 3]
    with pytest.raises(ValueError, match="every token"):
        nearest_tokens(ctx, table[:2], names, exclude=[0, 1])
    with pytest.raises(ValueError, match=r"\[M, W\]"):
        nearest_tokens(ctx, table[:, :8], names)


def test_prompt_text_joins_each_vectors_nearest_token_and_the_class():
    table = torch.randn(20, 4, generator=torch.Generator().manual_seed(3))
    contexts = nearest_tokens(table[[7, 2, 9]], table, names, k=2)
    assert prompt_text(contexts) == "w7 w2 w9 X."


# -- real vocabularies --------------------------------------------------------------------------


def test_tiny_alm_vocabulary_decodes_minilm_words(small_alm):
    vocab = small_alm.vocabulary()
    tok = small_alm.text.tokenizer
    assert vocab.table.shape == (30522, 384) and not vocab.table.requires_grad
    assert torch.equal(vocab.table[:50], small_alm.token_embedding(torch.arange(50)))
    ids = [tok.convert_tokens_to_ids(w) for w in ["dog", "rain", "##ing"]]
    assert vocab.decode(ids) == ["dog", "rain", "##ing"]
    assert {tok.cls_token_id, tok.sep_token_id, tok.pad_token_id} <= vocab.special_ids
    contexts = nearest_tokens(vocab.table[ids[:2]], vocab.table, vocab.decode, k=3)
    assert [c["tokens"][0]["token"] for c in contexts] == ["dog", "rain"]
    # a special token's own row is never an answer
    (cls_row,) = nearest_tokens(
        vocab.table[[tok.cls_token_id]], vocab.table, vocab.decode, k=3, exclude=vocab.special_ids
    )
    assert all(t["id"] not in vocab.special_ids for t in cls_row["tokens"])


@pytest.fixture(scope="module")
def small_pengi():
    """Pengi with a tiny audio tower; the text tower and offline CLIP vocabulary at full size."""
    from sept_ray.backbones.clip_tokenizer import load_clip_tokenizer
    from sept_ray.backbones.clip_vocab import offline_vocab_dir
    from sept_ray.backbones.htsat import HTSATConfig
    from sept_ray.backbones.pengi import Pengi
    from sept_ray.backbones.pengi_audio import PengiAudioConfig

    htsat = HTSATConfig(embed_dim=16, depths=(1, 1), num_heads=(1, 2), num_classes=5)
    audio = PengiAudioConfig(htsat=htsat, d_proj=24)
    return Pengi(load_clip_tokenizer(offline_vocab_dir()), audio_cfg=audio)


def test_pengi_vocabulary_drops_the_end_of_word_marker(small_pengi):
    vocab = small_pengi.vocabulary()
    tok = small_pengi.prompts.tokenizer
    # the table is cut to the ids the offline vocabulary holds (the tower has 49,408 rows)
    assert vocab.table.shape == (len(tok), 512) and len(tok) < 49408
    ids = tok("a dog barking in the rain", add_special_tokens=False)["input_ids"]
    raw = tok.convert_ids_to_tokens(ids)
    assert "dog</w>" in raw and "barking</w>" in raw
    words = vocab.decode(ids)
    assert "dog" in words and "barking" in words
    assert not any("</w>" in w for w in words)
    assert vocab.special_ids == {tok.bos_token_id, tok.eos_token_id}
    ctx = small_pengi.token_embedding(torch.tensor([ids[1]]))
    (context,) = nearest_tokens(ctx, vocab.table, vocab.decode, k=2, exclude=vocab.special_ids)
    assert context["tokens"][0] == {"token": "dog", "id": ids[1], "cosine": pytest.approx(1.0)}


# -- learners -----------------------------------------------------------------------------------


def make(name, alm, n_ctx=3):
    cfg = MethodConfig(name=name, n_ctx=n_ctx)
    return build_method(cfg, alm, TEMPLATE, ["dog", "rain"], torch.Generator().manual_seed(0))


@pytest.mark.parametrize("name", ["coop", "cocoop", "kgcoop", "dept"])
def test_learners_with_a_context_are_read_as_words(small_alm, name):
    learner = make(name, small_alm)
    ids = small_alm.text.tokenizer.convert_tokens_to_ids(["sound", "of", "a"])
    assert learner.context_vectors() is learner.ctx
    with torch.no_grad():  # put the context on known words
        learner.ctx.copy_(small_alm.vocabulary().table[ids])
    record = prompt_tokens(learner, k=2)
    assert record["backbone"] == "tiny-alm" and record["k"] == 2
    assert [len(c["tokens"]) for c in record["contexts"]] == [2, 2, 2]
    assert [c["tokens"][0]["id"] for c in record["contexts"]] == ids
    assert record["prompt_text"] == "sound of a X."


@pytest.mark.parametrize("name", ["palm", "zeroshot"])
def test_learners_without_a_context_have_no_record(small_alm, name):
    assert make(name, small_alm).context_vectors() is None
    assert prompt_tokens(make(name, small_alm)) is None


def test_vocabulary_from_tokenizer_keeps_the_tokenizers_ids(small_alm):
    tok = small_alm.text.tokenizer
    weight = torch.randn(len(tok) + 10, 4)
    vocab = Vocabulary.from_tokenizer(weight, tok, special_ids=[0])
    assert vocab.table.shape == (len(tok), 4) and vocab.special_ids == {0}
