import pytest
import torch

from sept_ray.backbones.clip_tokenizer import ClipPrompts, load_clip_tokenizer
from sept_ray.backbones.clip_vocab import offline_vocab_dir


@pytest.fixture(scope="module")
def prompts():
    return ClipPrompts(load_clip_tokenizer(offline_vocab_dir()))


def test_rows_are_start_context_text_end_padded_with_end_of_text(prompts):
    tok = prompts.tokenizer
    batch = prompts(["This is a sound of dog.", "a"], n_ctx=3)
    dog = tok("This is a sound of dog.", add_special_tokens=False)["input_ids"]
    assert len(dog) == 7  # this is a sound of dog .
    assert batch.ids[0].tolist() == [
        prompts.start_id,
        *[prompts.placeholder_id] * 3,
        *dog,
        prompts.end_id,
    ]
    a = tok("a", add_special_tokens=False)["input_ids"]
    row = [prompts.start_id, *[prompts.placeholder_id] * 3, *a, prompts.end_id]
    assert batch.ids[1].tolist() == row + [prompts.end_id] * (12 - len(row))  # CLIP pads with eot
    assert batch.mask.tolist() == [[1] * 12, [1] * len(row) + [0] * (12 - len(row))]
    assert batch.pool_index.tolist() == [11, len(row) - 1]
    assert (batch.ctx_start, batch.n_ctx) == (1, 3)
    assert tok.convert_ids_to_tokens(prompts.placeholder_id) == "x</w>"


def test_long_texts_keep_40_tokens_with_the_end_token(prompts):
    text = " ".join(["dog"] * 60)
    plain, with_ctx = prompts([text]), prompts([text], n_ctx=16)
    assert plain.ids.shape == (1, 40) and with_ctx.ids.shape == (1, 40)
    assert plain.ids[0, -1] == prompts.end_id and plain.pool_index.item() == 39
    assert (with_ctx.ids[0, 17:39] == plain.ids[0, 1]).all()  # 22 text tokens left
    assert prompts([text], n_ctx=38).ids[0].tolist() == [
        prompts.start_id,
        *[prompts.placeholder_id] * 38,
        prompts.end_id,
    ]


def test_bad_requests_are_refused(prompts, tmp_path):
    with pytest.raises(ValueError, match="n_ctx = 39: must be between 0 and 38"):
        prompts(["dog"], n_ctx=39)
    with pytest.raises(ValueError, match="no texts"):
        prompts([])
    with pytest.raises(FileNotFoundError, match="missing.*could not be loaded"):
        load_clip_tokenizer(tmp_path / "missing")
    (tmp_path / "empty").mkdir()  # transformers would build a tokenizer of 2 special tokens
    with pytest.raises(FileNotFoundError, match="empty.*no vocabulary found \\(2 tokens\\)"):
        load_clip_tokenizer(tmp_path / "empty")


def test_batch_is_padded_to_its_longest_prompt(prompts):
    short = prompts(["a", "b"])
    assert short.ids.shape == (2, 3)
    assert torch.equal(short.mask, torch.ones(2, 3, dtype=torch.long))
