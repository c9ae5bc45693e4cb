"""Whether a lock still holds, without solving or touching the network.

`stale_reasons` compares a lock with the project file and the index (pure); `check` reads
them for `cmpkg lock --check`; `check_keys` compares the store keys an install computes with
the locked ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cmpkg.errors import CmpkgError
from cmpkg.index import Index
from cmpkg.lock.model import Lock, LockedTarget, WheelSource, recipe_label
from cmpkg.lock.parse import read_lock
from cmpkg.lock.render import sources_table
from cmpkg.plan import PYENV, Plan
from cmpkg.project import LOCKFILE, project_index, require


def check(start: Path, extra: Sequence[Path], sources: WheelSource) -> list[str]:
    """Reasons the lock is stale, its wheel sources included; no solving, no network."""
    project = require(start)
    lock = read_lock(project.root / LOCKFILE)
    index = project_index(project, extra)
    reasons = stale_reasons(lock, project.content_hash(), project.targets, index)
    return reasons + source_changes(lock, sources)


def source_changes(lock: Lock, sources: WheelSource) -> list[str]:
    """How this command's wheel sources differ from those the lock was resolved from."""
    if lock.sources == sources:
        return []
    was, now = sources_table(lock.sources), sources_table(sources)
    return [
        f"wheel sources changed since the lock was written: {key} was {was[key]}, now {now[key]}"
        for key in was
        if was[key] != now[key]
    ]


def stale_reasons(
    lock: Lock, manifest_hash: str, targets: tuple[str, ...], index: Index
) -> list[str]:
    """Why the lock no longer matches the manifest and the index (empty: it is fresh)."""
    reasons = []
    if lock.manifest_hash != manifest_hash:
        reasons.append("cmpkg.toml changed since the lock was written (requests, targets or index)")
    missing = sorted(set(targets) - set(lock.targets))
    if missing:
        reasons.append(f"targets not in the lock: {', '.join(missing)}")
    current = {recipe_label(n, v): digest for (n, v), digest in index.digests().items()}
    for label, digest in sorted(lock.recipes.items()):
        if label not in current:
            reasons.append(f"recipe {label} is no longer in the index")
        elif current[label] != digest:
            reasons.append(f"recipe {label} changed since the lock was written")
    return reasons


def check_keys(plan: Plan, target: LockedTarget) -> None:
    """The keys an install computes must be the locked ones: anything else is drift."""
    keys = plan.keys()
    if target.environment_key is not None and keys.get(PYENV) != target.environment_key:
        raise CmpkgError(
            "key-mismatch",
            f"the Python environment's store key {keys.get(PYENV, '?')[:12]} differs from the "
            f"locked {target.environment_key[:12]}",
            hint="the lock was written by another cmpkg version or index; run `cmpkg lock`",
        )
    for name, locked in target.packages.items():
        if keys.get(name) != locked.key:
            raise CmpkgError(
                "key-mismatch",
                f"{name}: store key {keys.get(name, '?')[:12]} "
                f"differs from the locked {locked.key[:12]}",
                hint="the lock was written by another cmpkg version or index; run `cmpkg lock`",
            )
