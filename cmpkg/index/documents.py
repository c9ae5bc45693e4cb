"""Recipes' TOML documents, memoised by recipe digest, so a resolve parses no TOML.

A command that reaches a package parses its recipes (`cmpkg.index._LazyRecipes`): the TOML
parse was half of that, and tomllib's import a third as much again. The document a recipe's
bytes parse to is memoised under `<cache>/docs/<digest>`, where `digest` is the recipe's
(sha256 of the very bytes parsed, and of every file it ships: `cmpkg.index.load`). A name
that is a content hash is never stale: an edited recipe has another digest, and its old
document is simply not asked for. Only the parse is skipped: every check of the recipe runs
on the memoised document as on a freshly parsed one, so the same problems are found.

Nothing removes a document when its recipe changes: `cmpkg cache gc` calls `prune`, which
drops the documents and compiled stacks nothing can ask for any more.

Files are `marshal`led (as the compiled cache's: `compiled.read` refuses another format or
cmpkg version) and written atomically; an unreadable or damaged one is a miss, and a
document that marshal cannot hold (a TOML date) is not memoised.
"""

# ruff: noqa: PTH118

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from cmpkg.index import compiled
from cmpkg.index.table import DIGEST

DIRECTORY = "docs"


def path_of(cache: Path, digest: str) -> Path:
    return Path(os.path.join(cache, DIRECTORY, digest))


def read(cache: Path, digest: str) -> dict[str, Any] | None:
    """The memoised document of the recipe with `digest`, or None."""
    found = compiled.read(path_of(cache, digest))
    if found is None or len(found) != 2 or found[0] != digest or not isinstance(found[1], dict):
        return None
    document: dict[str, Any] = found[1]
    return document


def write(cache: Path, digest: str, document: dict[str, Any]) -> None:
    """Memoise `document` (what the recipe with `digest` parses to); never raises."""
    # A value marshal cannot store (a TOML date) raises ValueError: parsed every time instead.
    with contextlib.suppress(ValueError):
        compiled.write(path_of(cache, digest), digest, document)


def prune(cache: Path, *, dry_run: bool = False) -> list[tuple[Path, int]]:
    """The files of `cache` (`$CMPKG_HOME/index-v1`) that nothing can ask for any more, with
    their sizes, removed unless `dry_run`: each compiled stack (`cache/<key>.*`) that cmpkg
    cannot read (another cmpkg version or format) or whose directories and files are all
    gone, then each document no remaining stack's table names. Safe beside running
    commands: a removed file is only a cache miss (parsed again, and written again)."""
    if not cache.is_dir():
        return []
    removed: list[Path] = []
    digests: set[str] = set()
    for scan in sorted(cache.glob("*.scan")):
        found = compiled.read(scan)
        if found is None or not _exists(found):
            removed += [p for p in map(scan.with_suffix, compiled.SUFFIXES) if p.exists()]
            continue
        table = compiled.read(scan.with_suffix(".table"))
        if table is not None and isinstance(table[1], dict):
            digests.update(row[DIGEST] for rows in table[1].values() for row in rows)
    docs = cache / DIRECTORY
    if docs.is_dir():
        removed += sorted(p for p in docs.iterdir() if p.name not in digests)
    sized = [(path, _size(path)) for path in removed]
    if not dry_run:
        for path in removed:
            path.unlink(missing_ok=True)
    return sized


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _exists(scan: tuple[Any, ...]) -> bool:
    """Whether any directory or file of a `.scan` still exists (the first usually does)."""
    try:
        dirs, files = scan[1][0], scan[1][2]
    except (IndexError, TypeError):
        return False
    return any(map(os.path.lexists, [*dirs, *files]))
