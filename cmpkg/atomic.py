"""Replacing a file atomically: write a temporary sibling, then rename it over the target.

A reader (another cmpkg process, an editor, git) sees the old file or the new one, never a
truncated or half-written one (RELIABILITY.md C.17). Used for lockfiles, manifests,
environment records, mirror manifests and caches; the store has its own, fsyncing variant.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
