import pytest
import torch

from sept_ray.backbones.base import TokenBatch


def test_rows_are_right_padded_and_pooled_at_their_last_real_token():
    batch = TokenBatch.from_rows([[5, 1, 1, 7], [5, 9]], pad_id=0, ctx_start=1, n_ctx=2)
    assert batch.ids.tolist() == [[5, 1, 1, 7], [5, 9, 0, 0]]
    assert batch.mask.tolist() == [[1, 1, 1, 1], [1, 1, 0, 0]]
    assert batch.pool_index.tolist() == [3, 1]
    assert (batch.ctx_start, batch.n_ctx, batch.ids.dtype) == (1, 2, torch.long)
    assert batch.repeat(2).ids.shape == (4, 4)
    with pytest.raises(ValueError, match="no prompts"):
        TokenBatch.from_rows([], pad_id=0, ctx_start=1, n_ctx=0)


def test_selected_rows_are_cut_to_their_longest():
    batch = TokenBatch.from_rows([[1, 5, 6, 2], [1, 7, 2], [1, 8, 9, 9, 9, 2]], 0, 1, 1)
    chosen = batch.select(torch.tensor([1, 0]))
    assert chosen.ids.tolist() == [[1, 7, 2, 0], [1, 5, 6, 2]]  # 4 columns, not 6
    assert chosen.mask.tolist() == [[1, 1, 1, 0], [1, 1, 1, 1]]
    assert chosen.pool_index.tolist() == [2, 3]
    assert (chosen.ctx_start, chosen.n_ctx) == (1, 1)


def test_joined_batches_pad_to_the_longer():
    short = TokenBatch.from_rows([[1, 5, 2]], 0, 1, 1)
    long = TokenBatch.from_rows([[1, 6, 7, 8, 2], [1, 9, 2]], 0, 1, 1)
    joined = short.concat(long)
    assert joined.ids.tolist() == [[1, 5, 2, 0, 0], [1, 6, 7, 8, 2], [1, 9, 2, 0, 0]]
    assert joined.mask.sum(dim=1).tolist() == [3, 5, 3] and joined.pool_index.tolist() == [2, 4, 2]
    with pytest.raises(ValueError, match="context slots"):
        short.concat(TokenBatch.from_rows([[1, 2]], 0, 1, 2))
