"""Reading banks for people: ``sept neighbors show`` and ``sept neighbors diff``."""

from __future__ import annotations

from pathlib import Path

from sept_ray.sept.bank import BankError, NeighbourBank, read_bank, shipped_banks


def open_bank(arg: str) -> NeighbourBank:
    """A bank named on the command line: a bank file, or a dataset with a shipped bank."""
    path = Path(arg)
    if path.is_file():
        return read_bank(path)
    shipped = shipped_banks()
    if arg in shipped:
        return read_bank(shipped[arg])
    raise BankError(
        f"{arg}: neither a bank file nor a dataset with a shipped bank "
        f"(shipped: {', '.join(sorted(shipped))})"
    )


def header(bank: NeighbourBank) -> list[str]:
    """Source, content hash and provenance, one per line."""
    lines = [f"bank {bank.source}", f"  sha256 {bank.content_hash}"]
    lines += [f"  {key}: {value}" for key, value in bank.provenance.items()]
    return lines


def show_lines(bank: NeighbourBank, dataset: str = "", cls: str = "") -> list[str]:
    """The bank's datasets (or just ``dataset``), each class with its phrases in order; with
    ``cls``, that class's phrases numbered one per line."""
    datasets = [dataset] if dataset in bank.datasets else sorted(bank.datasets)
    lines = header(bank)
    for name in datasets:
        entries = bank.datasets[name]
        if cls:
            if cls not in entries:
                raise BankError(f"{bank.source}: dataset {name!r} has no class {cls!r}")
            lines.append(f"{name} / {cls}: {len(entries[cls])} phrases")
            lines += [f"  {i:3d}. {p}" for i, p in enumerate(entries[cls], start=1)]
            continue
        lines.append(f"{name}: {len(entries)} classes")
        lines += [f"  {c} ({len(ps)}): {'; '.join(ps)}" for c, ps in entries.items()]
    return lines


def diff_lines(a: NeighbourBank, b: NeighbourBank) -> list[str]:
    """What differs from ``a`` to ``b``: provenance, datasets and classes present in one only,
    and per class the phrases removed (-) and added (+), or a changed order."""
    lines = [f"--- {a.source}", f"+++ {b.source}"]
    for key in sorted(set(a.provenance) | set(b.provenance)):
        old, new = a.provenance.get(key), b.provenance.get(key)
        if old != new:
            lines.append(f"provenance.{key}: {old!r} -> {new!r}")
    for dataset in sorted(set(a.datasets) | set(b.datasets)):
        if dataset not in b.datasets or dataset not in a.datasets:
            side = "a" if dataset in a.datasets else "b"
            lines.append(f"{dataset}: only in {side}")
            continue
        old_d, new_d = a.datasets[dataset], b.datasets[dataset]
        for cls in sorted(set(old_d) | set(new_d)):
            if cls not in new_d or cls not in old_d:
                lines.append(f"{dataset}/{cls}: only in {'a' if cls in old_d else 'b'}")
                continue
            old, new = old_d[cls], new_d[cls]
            if old == new:
                continue
            removed = [p for p in old if p not in new]
            added = [p for p in new if p not in old]
            shared = len(old) - len(removed)
            lines.append(f"{dataset}/{cls}: -{len(removed)} +{len(added)}, {shared} shared")
            lines += [f"  - {p}" for p in removed] + [f"  + {p}" for p in added]
            if not removed and not added:
                lines.append("  (same phrases, order changed)")
    if len(lines) == 2:
        lines.append("no differences")
    return lines
