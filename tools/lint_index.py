"""Check the shipped index and the docs that quote it; `--fix-docs` re-copies the examples.

    python tools/lint_index.py             # index valid, docs/recipes.md examples current,
                                           # docs/index.md lists every recipe
    python tools/lint_index.py --fix-docs  # rewrite the example blocks of docs/recipes.md

docs/index.md's verification column is written by hand, so a missing row is reported with
the text to start from, never invented.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from cmpkg.errors import InputError  # noqa: E402
from cmpkg.index import SHIPPED_INDEX, Index, load_index  # noqa: E402
from cmpkg.index.query import version_text  # noqa: E402

RECIPES_MD = REPO / "docs" / "recipes.md"
INDEX_MD = REPO / "docs" / "index.md"
EXAMPLE = re.compile(r"^`(index/[^`]+\.toml)`:\n\n```toml\n(.*?)\n```", re.M | re.S)
ROW = re.compile(r"^\| \w+ \| `([^`]+)` \| ([^|]+) \| `([^`]+)` \|", re.M)


def stale_examples(text: str) -> list[str]:
    return [p for p, body in EXAMPLE.findall(text) if (REPO / p).read_text().rstrip() != body]


def fix_examples(text: str) -> str:
    def copy(match: re.Match[str]) -> str:
        path = match[1]
        return f"`{path}`:\n\n```toml\n{(REPO / path).read_text().rstrip()}\n```"

    return EXAMPLE.sub(copy, text)


def table_problems(index: Index) -> list[str]:
    rows = {(n, v.strip(), p) for n, v, p in ROW.findall(INDEX_MD.read_text())}
    want = {(r.name, version_text(r), str(r.path.relative_to(REPO))) for r in index.all()}
    missing = [
        f"missing row: | {_kind(index, n)} | `{n}` | {v} | `{p}` | ... |"
        for n, v, p in sorted(want - rows)
    ]
    extra = [f"row for no recipe: {n} {v} ({p})" for n, v, p in sorted(rows - want)]
    return missing + extra


def _kind(index: Index, name: str) -> str:
    return index.get(name)[0].kind


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--fix-docs", action="store_true", help="re-copy docs/recipes.md examples")
    args = parser.parse_args(argv)
    try:
        index = load_index([SHIPPED_INDEX])
    except InputError as error:
        print("\n".join(error.details), file=sys.stderr)
        return 2
    text = RECIPES_MD.read_text()
    if args.fix_docs:
        RECIPES_MD.write_text(fix_examples(text))
        text = RECIPES_MD.read_text()
    problems = [
        f"docs/recipes.md: stale copy of {p} (run with --fix-docs)" for p in stale_examples(text)
    ]
    problems += [f"docs/index.md: {p}" for p in table_problems(index)]
    print(
        "\n".join(problems)
        if problems
        else f"{sum(1 for _ in index.all())} recipes: index and docs ok"
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
