"""Recipes' TOML documents, memoised by recipe digest, so a resolve parses no TOML.

A command that reaches a package parses its recipes (`cmpkg.index._LazyRecipes`): the TOML
parse was half of that, and tomllib's import a third as much again. The document a recipe's
bytes parse to is memoised under `<cache>/docs/<digest>`, where `digest` is the recipe's
(sha256 of the very bytes parsed, and of every file it ships: `cmpkg.index.load`). A name
that is a content hash is never stale: an edited recipe has another digest, and its old
document is simply not asked for. Only the parse is skipped: every check of the recipe runs
on the memoised document as on a freshly parsed one, so the same problems are found.

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
