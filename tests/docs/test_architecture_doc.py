"""docs/architecture.md matches the tree: every module it names exists, and every module of
cmpkg/ and solvers/ has its line (a new module gets its line in the same commit)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).parents[2]
DOC = (ROOT / "docs" / "architecture.md").read_text()
NAMED = set(re.findall(r"`((?:cmpkg|solvers)/[\w/]+\.py)`", DOC))
TREE = {
    p.relative_to(ROOT).as_posix()
    for top in ("cmpkg", "solvers")
    for p in (ROOT / top).rglob("*.py")
}


def test_every_module_it_names_exists() -> None:
    assert not sorted(NAMED - TREE), "docs/architecture.md names modules that do not exist"


def test_every_module_has_its_line() -> None:
    missing = sorted(TREE - NAMED)
    assert not missing, f"add a line for each of {missing} to docs/architecture.md"


def test_the_readme_links_it() -> None:
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()
