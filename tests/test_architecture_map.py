"""docs/ARCHITECTURE.md names every module of the package, so the map cannot fall behind."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_every_package_module_is_named_in_the_map():
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    modules = sorted(
        p.relative_to(REPO).as_posix()
        for p in (REPO / "sept_ray").rglob("*.py")
        if p.name != "__init__.py"
    )
    assert len(modules) > 60
    unnamed = [m for m in modules if not re.search(rf"\b{re.escape(Path(m).stem)}\b", text)]
    assert unnamed == [], f"add these to docs/ARCHITECTURE.md: {unnamed}"


def test_every_package_folder_is_in_the_map():
    text = (REPO / "docs" / "ARCHITECTURE.md").read_text()
    folders = {p.parent.name for p in (REPO / "sept_ray").rglob("*.py")} - {"sept_ray"}
    assert [f for f in sorted(folders) if f"{f}/" not in text] == []
