"""Download the paper's datasets, already in the PALM layout, from the Hugging Face hub (docs/DATASETS.md).

Each is the dataset repository ``MahiA/<Name>``, fetched with ``snapshot_download`` into
``<root>/<Name>``. NS-Instruments and VocalSound arrive as a zip: every ``*.zip`` at the top of the
folder is unpacked in place and removed (a dataset the archive wrapped in folders is lifted up).
A dataset whose CSVs already read back with all their files is not fetched again, and a zip
already in the folder (e.g. fetched by ``huggingface-cli``) is unpacked without fetching. Offline
(``$SEPT_OFFLINE`` or ``$HF_HUB_OFFLINE`` = 1) or without a connection, the error says what to
download and where to put it, or how to import the official distribution instead.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

from sept_ray.data.catalog import DATASETS
from sept_ray.data.manifest import ManifestError, count_folds, load_split
from sept_ray.offline import is_offline
from sept_ray.progress import progress


class DownloadError(FileNotFoundError):
    """A dataset is not on disk and could not be fetched; the message says what to do instead."""


def hub_names() -> list[str]:
    """The registered datasets with a hub copy (the paper's 11), sorted."""
    return [n for n in DATASETS.names() if DATASETS.get(n).hub_repo]


def hub_repo(name: str) -> str:
    """The hub repository of ``name`` (``MahiA/<name>``); an unknown name lists the known ones."""
    if name not in hub_names():
        raise KeyError(f"unknown hub dataset {name!r} (known: {', '.join(hub_names())})")
    return DATASETS.get(name).hub_repo


def is_complete(root: Path, name: str) -> bool:
    """Whether ``<root>/<name>`` reads back, every fold, with all its files and PALM's classes."""
    try:
        folder = root / name
        folds = range(1, count_folds(folder) + 1)
        classes = DATASETS.get(name).classes
        return all(load_split(root, name, k).classes == classes for k in folds)
    except ManifestError:
        return False


def offline_message(name: str, target: Path) -> str:
    """What to do when ``name`` cannot be fetched into ``target``."""
    repo = hub_repo(name)
    return (
        f"dataset {name!r} could not be downloaded (offline or no connection): download "
        f"https://huggingface.co/datasets/{repo} ({DATASETS.get(name).hub_size}) into {target} "
        f"(e.g. `huggingface-cli download {repo} --repo-type dataset --local-dir {target}`, then "
        f"`sept data download {name} --root {target.parent}` to unpack and check it), or import "
        f"the official distribution with `sept data import {name} SRC_DIR {target.parent}`"
    )


def unpack_archives(folder: Path) -> list[Path]:
    """Unpack every ``*.zip`` directly in ``folder`` into ``folder``, delete it, and lift the
    dataset up when the archive wrapped it in folders; returns the archives unpacked."""
    archives = sorted(folder.glob("*.zip"))
    for archive in archives:
        unpack_zip(archive, folder)
        archive.unlink()
    if archives:
        lift_layout(folder)
    return archives


def unpack_zip(archive: Path, dest: Path) -> None:
    """Extract ``archive`` into ``dest`` with a progress bar (bytes); a member whose path would
    leave ``dest`` is refused."""
    root = dest.resolve()
    with zipfile.ZipFile(archive) as zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        total = sum(i.file_size for i in infos)
        with progress(total=total, desc=f"unpacking {archive.name}", unit="B") as bar:
            for info in infos:
                target = (dest / info.filename).resolve()
                if root not in target.parents:
                    raise DownloadError(f"{archive}: member {info.filename!r} would leave {dest}")
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out, 1 << 20)
                bar.update(info.file_size)


def lift_layout(folder: Path) -> None:
    """When ``folder`` has no ``train.csv`` but exactly one subfolder (1-2 levels down) has, move
    that subfolder's contents up into ``folder`` (an archive that wrapped the dataset in folders)."""
    if (folder / "train.csv").is_file():
        return
    inner = [p.parent for p in [*folder.glob("*/train.csv"), *folder.glob("*/*/train.csv")]]
    inner = [p for p in inner if ".cache" not in p.relative_to(folder).parts]
    if len(inner) != 1:
        return  # nothing to lift, or ambiguous: the read-back names what is missing
    for child in sorted(inner[0].iterdir()):
        if (folder / child.name).exists():
            raise DownloadError(f"{child} cannot be moved up: {folder / child.name} exists")
        child.rename(folder / child.name)
    wrapper = inner[0]
    while wrapper != folder and not any(wrapper.iterdir()):
        wrapper.rmdir()
        wrapper = wrapper.parent


def download_dataset(name: str, root: str | Path, offline: bool | None = None) -> Path:
    """``<root>/<name>`` in the PALM layout, fetched from ``MahiA/<name>`` unless already complete.

    ``offline`` (default: :func:`is_offline`) looks only at what is on disk. Raises
    :class:`DownloadError` when the hub cannot be reached, and :class:`ManifestError` when what
    arrived does not read back.
    """
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    repo = hub_repo(name)
    root = Path(root)
    target = root / name
    if is_complete(root, name):
        return target
    if not list(target.glob("*.zip")):  # an archive already here is unpacked, not fetched again
        offline = is_offline() if offline is None else offline
        try:
            snapshot_download(
                repo_id=repo, repo_type="dataset", local_dir=str(target), local_files_only=offline
            )
        except (LocalEntryNotFoundError, HfHubHTTPError, OSError) as exc:
            message = offline_message(name, target)
            raise DownloadError(f"{message} [{type(exc).__name__}: {exc}]") from exc
    unpack_archives(target)
    for fold in range(1, count_folds(target) + 1):
        classes = load_split(root, name, fold).classes
        if classes != DATASETS.get(name).classes:
            raise ManifestError(
                f"{target}: fold {fold} classes {classes} are not PALM's {name} classes"
            )
    return target
