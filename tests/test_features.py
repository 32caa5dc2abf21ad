import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

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


REPO = Path(__file__).resolve().parents[1]
BUILDER = """
import hashlib, json, sys, time
from pathlib import Path
from sept_ray.backbones.tiny import load_tiny_alm
from sept_ray.features import EmbeddingCache
weights, folder, cache, ready, go = sys.argv[1:6]
alm = load_tiny_alm(weights)
Path(ready).touch()
while not Path(go).exists():
    time.sleep(0.002)
emb, built = EmbeddingCache(cache).ensure(alm, Path(folder))
digest = hashlib.sha256(emb.center.numpy().tobytes()).hexdigest()
print(json.dumps({"built": built, "clips": len(emb.paths), "center": digest}))
"""


def start_builder(weights: Path, folder: Path, cache: Path, tag: str) -> subprocess.Popen:
    """A child Python process that loads the small backbone, touches ``<cache>/../<tag>.ready``,
    waits for ``<cache>/../go``, builds the entry of ``folder`` and prints a JSON line."""
    sync = cache.parent
    argv = [str(weights), str(folder), str(cache), str(sync / f"{tag}.ready"), str(sync / "go")]
    return subprocess.Popen(
        [sys.executable, "-c", BUILDER, *argv],
        env={**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for(condition, what: str, timeout: float = 60.0, procs=()) -> None:
    """Poll ``condition`` every 2 ms; fail naming ``what`` on timeout or when a child died."""
    deadline = time.monotonic() + timeout
    while not condition():
        for proc in procs:
            if proc.poll() is not None:
                raise AssertionError(
                    f"builder exited early waiting for {what}: {proc.stderr.read()}"
                )
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.002)


def stale_temps(entry: Path) -> list[Path]:
    return sorted(entry.parent.glob(f".{entry.stem}.*.npz"))


def test_a_builder_killed_mid_build_leaves_nothing_valid(small_weights, small_alm, tmp_path):
    """A builder SIGKILLed holding the lock leaves no entry; the next builder gets the lock
    (the kernel dropped the dead holder's flock), deletes stale temps and builds every clip."""
    from conftest import write_tone_dataset

    folder = write_tone_dataset(tmp_path, "Big", ["a", "b", "c", "d"], 40, 10)  # 200 clips
    cache = EmbeddingCache(tmp_path / "cache")
    entry = cache.entry_path(small_alm, folder, 0)
    lock = Path(str(entry) + ".lock")
    child = start_builder(small_weights, folder, cache.root, "killed")
    try:
        wait_for((tmp_path / "killed.ready").exists, "the child's backbone", procs=[child])
        (tmp_path / "go").touch()
        wait_for(lock.exists, "the child's entry lock", procs=[child])
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.communicate()
    assert child.returncode == -signal.SIGKILL
    assert not entry.exists()  # killed while embedding: no entry, torn or whole
    junk = entry.parent / f".{entry.stem}.junk.npz"  # as if it died inside the write window
    junk.write_bytes(b"\x00not an npz" * 100)
    emb, built = cache.ensure(small_alm, folder)
    assert built
    assert emb.paths == all_clip_paths(folder) and emb.center.shape == (200, 384)
    assert read_entry(entry) is not None
    assert stale_temps(entry) == []


def test_two_builders_of_one_entry_build_it_once(small_weights, small_alm, tone_root, tmp_path):
    """Two processes asking for one absent entry at once: one builds it, the other waits on the
    lock, then reads the same entry and says it found it."""
    folder = tone_root / "Tones"
    cache = EmbeddingCache(tmp_path / "cache")
    children = [start_builder(small_weights, folder, cache.root, f"b{i}") for i in range(2)]
    try:
        for i in range(2):
            wait_for((tmp_path / f"b{i}.ready").exists, f"builder {i}", procs=children)
        (tmp_path / "go").touch()  # both call ensure() within milliseconds
        outputs = [child.communicate(timeout=60) for child in children]
    finally:
        for child in children:
            child.kill()
            child.communicate()
    assert [child.returncode for child in children] == [0, 0], [err for _, err in outputs]
    reports = [json.loads(out.splitlines()[-1]) for out, _ in outputs]
    assert sorted(r["built"] for r in reports) == [False, True]
    assert {r["clips"] for r in reports} == {36}
    entry = cache.entry_path(small_alm, folder, 0)
    center = hashlib.sha256(read_entry(entry).center.numpy().tobytes()).hexdigest()
    assert [r["center"] for r in reports] == [center, center]
    assert stale_temps(entry) == []
