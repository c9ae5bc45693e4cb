"""docs/recipes.md and docs/index.md stay true to the shipped index."""

from __future__ import annotations

import re

from cmpkg.index import SHIPPED_INDEX, load_index
from cmpkg.index.query import version_text

REPO = SHIPPED_INDEX.parent
EXAMPLE = re.compile(r"^`(index/[^`]+\.toml)`:\n\n```toml\n(.*?)\n```", re.M | re.S)


def test_recipe_examples_are_the_shipped_files() -> None:
    text = (REPO / "docs" / "recipes.md").read_text()
    examples = EXAMPLE.findall(text)
    kinds = set()
    for path, body in examples:
        assert (REPO / path).read_text().rstrip() == body, (
            f"docs/recipes.md copy of {path} is stale: python tools/lint_index.py --fix-docs"
        )
        kinds.add(next(r.kind for r in load_index([SHIPPED_INDEX]).all() if r.path == REPO / path))
    assert kinds == {"tool", "library", "model", "dataset", "app"}


def test_index_table_lists_every_recipe() -> None:
    text = (REPO / "docs" / "index.md").read_text()
    rows = set(re.findall(r"^\| \w+ \| `([^`]+)` \| ([^|]+) \| `([^`]+)` \|", text, re.M))
    expected = {
        (r.name, version_text(r), str(r.path.relative_to(REPO)))
        for r in load_index([SHIPPED_INDEX]).all()
    }
    listed = {(n, v.strip(), p) for n, v, p in rows}
    assert listed == expected, (
        f"docs/index.md rows to add: {sorted(expected - listed)}, to remove: "
        f"{sorted(listed - expected)} (python tools/lint_index.py prints row templates)"
    )


def test_recipe_format_documents_every_top_level_key() -> None:
    text = (REPO / "docs" / "recipes.md").read_text()
    keys = ["name", "version", "kind", "tags", "summary", "license", "homepage", "depends"]
    keys += ["variants", "invalid", "sources", "provide", "env", "paths", "files", "run"]
    assert all(f"| `{k}` |" in text for k in keys)
