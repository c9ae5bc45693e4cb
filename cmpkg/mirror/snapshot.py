"""The mirror's copy of the recipe index, checked against the lock it is made for.

`snapshot_index(dirs, root, lock)` copies the index stack the lock was made from into
`root/index/NN/`, loads the copy, and refuses it unless every recipe the lock names is in it
with the lock's digest (so the mirror can install its lock). A revision that differs from the
lock's `index.revision` while every locked recipe is unchanged (recipes the lock does not use
were added or edited) is reported as a note. The copy replaces the old snapshot only when
its files differ, so re-creating an unchanged mirror leaves `index/` untouched.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Sequence
from pathlib import Path

from cmpkg.errors import CmpkgError
from cmpkg.lock import Lock, recipe_label
from cmpkg.mirror.manifest import scan

INDEX = "index"


def snapshot_index(dirs: Sequence[Path], root: Path, lock: Lock) -> list[str]:
    staging = root / f".index-{uuid.uuid4().hex}"
    try:
        _copy(dirs, staging)
        notes = check_snapshot(staging, lock, dirs)
        target = root / INDEX
        if not target.is_dir() or scan(target) != scan(staging):
            if target.exists():
                shutil.rmtree(target)
            staging.rename(target)
        return notes
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _copy(dirs: Sequence[Path], staging: Path) -> None:
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")  # caches and tool state
    staging.mkdir()
    for i, directory in enumerate(dirs):
        shutil.copytree(directory, staging / f"{i:02d}", ignore=skip)


def check_snapshot(snapshot: Path, lock: Lock, origin: Sequence[Path]) -> list[str]:
    """Refuse a snapshot that lacks a locked recipe or holds another version of it."""
    from cmpkg.index import load_index

    index = load_index(sorted(p for p in snapshot.iterdir() if p.is_dir()))
    have = {recipe_label(r.name, r.version): r.digest for r in index.all()}
    wrong = []
    for label, digest in sorted(lock.recipes.items()):
        if label not in have:
            wrong.append(f"{label}: not in the index")
        elif have[label] != digest:
            wrong.append(f"{label}: the index holds another version of the recipe")
    if wrong:
        raise CmpkgError(
            "mirror-index-mismatch",
            f"the index is not the one the lock was made from ({len(wrong)} recipes differ)",
            details=[*wrong, f"looked in: {', '.join(str(d) for d in origin)}"],
            hint="run `cmpkg mirror create` from the lock's project (or pass its --index), "
            "or re-lock",
        )
    if index.revision != lock.index_revision:
        return [
            f"index revision {index.revision[:12]} differs from the lock's "
            f"{lock.index_revision[:12]}, but every recipe the lock uses is unchanged"
        ]
    return []
