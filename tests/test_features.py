import numpy as np
import soundfile
import torch

from sept_ray.data.audio import load_clip
from sept_ray.data.manifest import all_clip_paths
from sept_ray.features import EmbeddingCache, read_entry


def test_entry_holds_every_clip_once(small_alm, tone_root, tmp_path):
    folder = tone_root / "Tones"
    cache = EmbeddingCache(tmp_path / "cache")
    emb = cache.load_or_build(small_alm, folder)
    assert emb.paths == all_clip_paths(folder) and emb.center.shape == (36, 384)
    assert emb.views is None
    rel = emb.paths[5]
    wave = torch.from_numpy(load_clip(folder / rel, 16000, 2.0))[None]
    with torch.no_grad():
        direct = small_alm.audio_features(wave)  # raw: the cache keeps un-normalised features
    assert torch.allclose(emb.center[emb.rows([rel])], direct, atol=1e-4)
    assert len(emb.manifest_hash) == 64


def test_second_load_reads_without_rebuilding(small_alm, tone_root, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    first = cache.load_or_build(small_alm, tone_root / "Tones")
    stamp = first.entry.stat().st_mtime_ns
    second = cache.load_or_build(small_alm, tone_root / "Tones")
    assert second.entry == first.entry and second.entry.stat().st_mtime_ns == stamp
    assert torch.equal(first.center, second.center)


def test_changed_clip_or_views_give_a_new_entry(small_alm, tone_root, tmp_path):
    folder = tone_root / "Tones"
    cache = EmbeddingCache(tmp_path / "cache")
    before = cache.entry_path(small_alm, folder, 0)
    clip = folder / "audios/alpha/000.wav"
    soundfile.write(clip, np.zeros(8000, np.float32) + 0.1, 16000)
    after = cache.entry_path(small_alm, folder, 0)
    assert after != before
    assert cache.entry_path(small_alm, folder, 2) != after  # views are part of the key


def test_other_weights_or_front_end_give_a_new_key(small_alm, tone_root, tmp_path):
    from sept_ray.backbones.tiny import TinyALM, load_tiny_alm, minilm_path
    from sept_ray.backbones.tiny_audio import TinyAudioConfig

    folder = tone_root / "Tones"
    cache = EmbeddingCache(tmp_path / "cache")
    torch.manual_seed(1)
    other = TinyALM(TinyAudioConfig(channels=(4, 8, 8, 16)), minilm_path(), logit_scale=30.0)
    other.save_audio_weights(tmp_path / "other.safetensors")
    other = load_tiny_alm(tmp_path / "other.safetensors")
    assert other.weights_id != small_alm.weights_id
    assert cache.entry_path(other, folder, 0) != cache.entry_path(small_alm, folder, 0)
    hop = TinyALM(TinyAudioConfig(channels=(4, 8, 8, 16), hop=160), minilm_path())
    hop.load_state_dict(small_alm.state_dict())  # same weights, other front end
    assert hop.weights_id == small_alm.weights_id and hop.cache_id != small_alm.cache_id


def test_torn_entry_is_ignored_and_rebuilt(small_alm, tone_root, tmp_path):
    cache = EmbeddingCache(tmp_path / "cache")
    entry = cache.load_or_build(small_alm, tone_root / "Tones").entry
    data = entry.read_bytes()
    entry.write_bytes(data[: len(data) // 2])
    assert read_entry(entry) is None
    rebuilt = cache.load_or_build(small_alm, tone_root / "Tones")
    assert rebuilt.center.shape == (36, 384)
    assert not list(entry.parent.glob(".*.npz"))  # no temp files left behind


def test_random_crop_views(small_alm, tmp_path):
    """Clips longer than the backbone's window get distinct random-crop views, seeded by path."""
    from conftest import write_tone_dataset

    write_tone_dataset(tmp_path, "Long", ["a", "b"], 2, 1, seconds=3.0)
    cache = EmbeddingCache(tmp_path / "cache")
    emb = cache.load_or_build(small_alm, tmp_path / "Long", views=3)
    assert emb.views.shape == (6, 3, 384)
    assert not torch.allclose(emb.views[0, 0], emb.views[0, 1])
    again = EmbeddingCache(tmp_path / "cache2").load_or_build(small_alm, tmp_path / "Long", views=3)
    assert torch.equal(emb.views, again.views)


def test_a_trial_that_may_not_embed_gets_a_named_miss(small_alm, tone_root, tmp_path):
    import pytest

    from sept_ray.features import CacheMissError

    cache = EmbeddingCache(tmp_path / "cache")
    with pytest.raises(CacheMissError, match=r"no embedding-cache entry for Tones on"):
        cache.load(small_alm, tone_root / "Tones", build=False)
    assert not list((tmp_path / "cache").rglob("*.npz"))  # nothing was built
    built = cache.load(small_alm, tone_root / "Tones")
    again = cache.load(small_alm, tone_root / "Tones", build=False)
    assert torch.equal(built.center, again.center)
    part = again.subset(again.paths[3:6])
    assert part.paths == again.paths[3:6] and torch.equal(part.center, again.center[3:6])
    with pytest.raises(KeyError, match="is not in cache entry"):
        part.rows([again.paths[0]])  # rows outside the subset are not there to read
