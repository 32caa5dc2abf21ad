"""README stays a first screen: at most 200 lines, the two commands near the top, and every file
it links to exists."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_readme_is_short_with_the_two_commands_first():
    lines = README.splitlines()
    assert len(lines) <= 200
    first_screen = "\n".join(lines[:40])
    assert "make demo" in first_screen and "make test" in first_screen


def test_every_linked_file_exists():
    links = re.findall(r"\]\(([^)#]+)\)", README)
    local = [link for link in links if not link.startswith("http")]
    assert "docs/METHOD.md" in local
    assert [link for link in local if not (REPO / link).exists()] == []
