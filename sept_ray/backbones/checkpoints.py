"""The weights registry: where each backbone's pretrained weights come from, and how to get them.

Modelled on open_clip's pretrained registry: a name maps to a source (a URL of one file, or a
Hugging Face hub repository), the file to read and its checksum. :func:`resolve_weights` turns a
name or a local path into a local path: a path that exists is used as it is; a registered name is
looked up in the cache folder and downloaded (with progress and a sha256 check) only when allowed.
Offline with no local copy, the error says what to download and where to put it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from sept_ray.offline import is_offline
from sept_ray.registry import Registry

CACHE_ENV = "SEPT_WEIGHTS_DIR"
URL_TIMEOUT_S = 60  # seconds without data before a URL download fails
DUPLICATE_FORMATS = ("*.bin", "*.h5", "*.msgpack", "*.ot", "*.onnx", "*.onnx_data", "*.tflite")


@dataclass(frozen=True)
class WeightsSource:
    """One set of pretrained weights.

    ``kind`` is ``"url"`` (one file at ``url``, saved as ``filename``, checked against ``sha256``
    when one is given) or ``"hf"`` (a hub repository ``url`` = ``owner/name``, saved as a folder
    ``filename``; ``files`` = glob patterns of the files to fetch, empty = the whole repository
    less duplicate weight formats, see :func:`hub_ignore_patterns`). ``size_mb`` is the download
    size, for the error and the listing. ``default`` marks the weights a backbone loads when
    ``backbone.weights`` is empty (one per backbone).
    """

    name: str
    backbone: str
    kind: str
    url: str
    filename: str
    sha256: str = ""
    size_mb: float = 0.0
    note: str = ""
    files: tuple[str, ...] = ()
    default: bool = False

    def __post_init__(self) -> None:
        if self.kind not in ("url", "hf"):
            raise ValueError(
                f"weights {self.name!r}: kind must be 'url' or 'hf', not {self.kind!r}"
            )
        if self.files and self.kind != "hf":
            raise ValueError(f"weights {self.name!r}: files are for kind 'hf' only")

    @property
    def where(self) -> str:
        """The address to download from (a URL, or the hub repository's page)."""
        return self.url if self.kind == "url" else f"https://huggingface.co/{self.url}"

    def local_path(self) -> Path:
        """Where these weights live once downloaded (exists or not)."""
        return weights_dir() / self.filename


WEIGHTS: Registry[WeightsSource] = Registry("weights")


def add_weights(source: WeightsSource) -> WeightsSource:
    """Register ``source`` under its name (a backbone's file calls this next to its factory).

    A second default for the same backbone is an error."""
    if source.default and (other := default_weights(source.backbone)) is not None:
        raise ValueError(
            f"weights {source.name!r}: backbone {source.backbone!r} already has default weights "
            f"{other.name!r}"
        )
    return WEIGHTS.register(source.name)(source)


def default_weights(backbone: str) -> WeightsSource | None:
    """The registered weights marked default for ``backbone``, or None (e.g. shipped weights)."""
    for name in WEIGHTS.names():
        source = WEIGHTS.get(name)
        if source.backbone == backbone and source.default:
            return source
    return None


def weights_dir() -> Path:
    """Where downloaded weights live: ``$SEPT_WEIGHTS_DIR``, else ``~/.cache/sept_ray/weights``."""
    default = Path.home() / ".cache" / "sept_ray" / "weights"
    return Path(os.environ.get(CACHE_ENV, default)).expanduser()


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in ``chunk``-byte pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def resolve_weights(spec: str, download: bool | None = None) -> Path:
    """A local file or folder for ``spec``: an existing path, or a registered weights name.

    A registered name is looked for in :func:`weights_dir`; when absent it is downloaded if
    ``download`` is true (default: not :func:`is_offline`). Raises ``FileNotFoundError`` naming the
    source, the size and the path to put it at when it cannot be had, and ``ValueError`` on a
    checksum mismatch (the bad file is kept aside, not used).
    """
    if not spec:
        raise ValueError("weights: empty name (give a file, a folder or a registered weights name)")
    path = Path(spec).expanduser()
    if path.exists():
        return path
    if spec not in WEIGHTS:
        known = ", ".join(WEIGHTS.names()) or "none"
        raise FileNotFoundError(
            f"{spec}: no such file or folder, and not a registered weights name (known: {known})"
        )
    source = WEIGHTS.get(spec)
    target = source.local_path()
    if target.exists():
        return target
    allowed = (not is_offline()) if download is None else download
    if not allowed:
        raise FileNotFoundError(missing_message(source, target))
    from filelock import FileLock

    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(target.parent / f".{target.name}.lock")):  # one download per target
        if target.exists():  # another process finished it while this one waited
            return target
        if source.kind == "hf":
            return _download_hub(source, target)
        return _download_url(source, target)


def missing_message(source: WeightsSource, target: Path) -> str:
    """What to download and where to put it, for weights that are not here and may not be fetched."""
    size = f" ({source.size_mb:,.0f} MB)" if source.size_mb else ""
    what = "the repository's files into the folder" if source.kind == "hf" else "it at"
    return (
        f"weights {source.name!r} for backbone {source.backbone!r} are not available offline: "
        f"download {source.where}{size} and put {what} {target} (or pass its path as "
        f"backbone.weights; ${CACHE_ENV} moves the folder)"
    )


def _download_url(source: WeightsSource, target: Path) -> Path:
    """Stream ``source.url`` to a temporary file beside ``target`` with a progress bar, check the
    sha256, then move it into place."""
    from tqdm import tqdm

    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    tmp = Path(tmp_name)
    digest = hashlib.sha256()
    try:
        with (
            os.fdopen(fd, "wb") as out,
            urllib.request.urlopen(source.url, timeout=URL_TIMEOUT_S) as response,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            with tqdm(total=total, unit="B", unit_scale=True, desc=source.name) as bar:
                while block := response.read(1 << 20):
                    out.write(block)
                    digest.update(block)
                    bar.update(len(block))
        if source.sha256 and digest.hexdigest() != source.sha256:
            bad = target.with_name(target.name + ".bad")
            os.replace(tmp, bad)
            raise ValueError(
                f"{source.url}: sha256 {digest.hexdigest()} != expected {source.sha256} "
                f"(kept at {bad}, not used)"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def hub_ignore_patterns(repo_files: list[str]) -> list[str]:
    """Files of a hub repository not to fetch: when it holds ``.safetensors`` weights, the same
    weights in other formats (PyTorch ``.bin``, TensorFlow, Flax, ONNX, ...)."""
    if any(name.endswith(".safetensors") for name in repo_files):
        return list(DUPLICATE_FORMATS)
    return []


def _download_hub(source: WeightsSource, target: Path) -> Path:
    """Snapshot of the hub repository ``source.url`` (``source.files`` only, when given) into a
    temporary folder beside ``target``, renamed to ``target`` once complete."""
    import shutil

    from huggingface_hub import HfApi, snapshot_download

    partial = target.with_name(f".{target.name}.partial")  # kept between tries: resumes
    if source.files:
        patterns = {"allow_patterns": list(source.files)}
    else:
        patterns = {"ignore_patterns": hub_ignore_patterns(HfApi().list_repo_files(source.url))}
    snapshot_download(repo_id=source.url, local_dir=str(partial), **patterns)
    shutil.rmtree(partial / ".cache", ignore_errors=True)  # the hub client's download state
    os.replace(partial, target)
    return target
