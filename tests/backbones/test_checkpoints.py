"""The weights registry: offline errors, and URL downloads from a real HTTP server on 127.0.0.1."""

import functools
import hashlib
import http.server
import threading

import pytest

from sept_ray.backbones.checkpoints import (
    CACHE_ENV,
    WEIGHTS,
    WeightsSource,
    add_weights,
    default_weights,
    hub_ignore_patterns,
    resolve_weights,
)
from sept_ray.offline import OFFLINE_ENV

PAYLOAD = bytes(range(256)) * 400  # 102,400 bytes


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    monkeypatch.delenv(OFFLINE_ENV, raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    return folder


@pytest.fixture
def server(tmp_path):
    """An HTTP server on 127.0.0.1 serving ``tmp_path/served``; yields its base URL."""
    served = tmp_path / "served"
    served.mkdir()
    (served / "weights.bin").write_bytes(PAYLOAD)
    handler = functools.partial(_QuietHandler, directory=str(served))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest's output clean
        pass


def register(monkeypatch, **fields):
    """A weights entry registered for this test only."""
    source = WeightsSource(**{"backbone": "test", "kind": "url", **fields})
    monkeypatch.setitem(WEIGHTS._items, source.name, source)
    return source


def test_offline_error_names_the_url_and_the_target(cache, monkeypatch):
    monkeypatch.setenv(OFFLINE_ENV, "1")
    with pytest.raises(FileNotFoundError) as error:
        resolve_weights("msclap-2023")
    message = str(error.value)
    assert "https://huggingface.co/microsoft/msclap/resolve/main/CLAP_weights_2023.pth" in message
    assert str(cache / "CLAP_weights_2023.pth") in message
    assert "690 MB" in message and "backbone 'msclap-2023'" in message
    with pytest.raises(FileNotFoundError, match="laion/clap-htsat-unfused"):
        resolve_weights("laion-clap-htsat-unfused")


def test_paths_and_unknown_names(cache, tmp_path):
    file = tmp_path / "model.pth"
    file.write_bytes(b"x")
    assert resolve_weights(str(file)) == file
    with pytest.raises(FileNotFoundError, match="not a registered weights name"):
        resolve_weights("no-such-weights")
    with pytest.raises(ValueError, match="empty name"):
        resolve_weights("")


def test_url_download_with_good_checksum_places_the_file(cache, server, monkeypatch):
    register(
        monkeypatch,
        name="test-good",
        url=f"{server}/weights.bin",
        filename="good.bin",
        sha256=hashlib.sha256(PAYLOAD).hexdigest(),
    )
    path = resolve_weights("test-good")
    assert path == cache / "good.bin" and path.read_bytes() == PAYLOAD
    assert sorted(p.name for p in cache.iterdir()) == [".good.bin.lock", "good.bin"]
    path.write_bytes(b"local copy")  # present: used as it is, not fetched again
    assert resolve_weights("test-good").read_bytes() == b"local copy"


def test_url_download_with_bad_checksum_places_nothing(cache, server, monkeypatch):
    register(
        monkeypatch,
        name="test-bad",
        url=f"{server}/weights.bin",
        filename="bad.bin",
        sha256="0" * 64,
    )
    with pytest.raises(ValueError, match=r"sha256 .* != expected 0000") as error:
        resolve_weights("test-bad")
    assert str(server) in str(error.value)
    assert not (cache / "bad.bin").exists()
    assert not list(cache.glob("*.part"))  # no temporary file left either


def test_download_refused_when_offline_or_not_allowed(cache, server, monkeypatch):
    register(monkeypatch, name="test-off", url=f"{server}/weights.bin", filename="off.bin")
    with pytest.raises(FileNotFoundError, match="off.bin"):
        resolve_weights("test-off", download=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match=f"{server}/weights.bin"):
        resolve_weights("test-off")
    assert not cache.exists() or not any(cache.iterdir())


def test_defaults_are_one_per_backbone(monkeypatch):
    assert default_weights("msclap-2023").name == "msclap-2023"
    assert default_weights("laion-clap").name == "laion-clap-htsat-unfused"
    assert default_weights("tiny-alm") is None
    with pytest.raises(ValueError, match="already has default weights 'msclap-2023'"):
        add_weights(
            WeightsSource("other", "msclap-2023", "url", "http://x/y", "y.pth", default=True)
        )
    with pytest.raises(ValueError, match="files are for kind 'hf' only"):
        WeightsSource("x", "b", "url", "http://x/y", "y", files=("a",))


def test_hub_downloads_skip_duplicate_weight_formats():
    files = ["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5", "vocab.json"]
    assert {"*.bin", "*.h5"} <= set(hub_ignore_patterns(files))
    assert hub_ignore_patterns(["config.json", "pytorch_model.bin"]) == []
