"""`cmpkg lock [--check]`: write the project's `cmpkg.lock`, or say whether it is fresh."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from cmpkg.lock.check import check
from cmpkg.lock.make import write_lock
from cmpkg.wheels import WheelSource


@dataclass(frozen=True)
class LockInput:
    start: Path = field(default_factory=Path.cwd)  # where the project is looked for
    index_dirs: tuple[Path, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    backend: str = "auto"
    upgrade_all: bool = False  # ignore the previous lock's pins
    upgrade: tuple[str, ...] = ()  # ignore them for these packages
    only: tuple[str, ...] = ()  # re-lock these targets, keep the others as locked


@dataclass(frozen=True)
class LockResult:
    path: Path
    changed: bool


def lock(given: LockInput) -> LockResult:
    path, changed = write_lock(
        given.start,
        given.index_dirs,
        _sources(given),
        backend=given.backend,
        upgrade_all=given.upgrade_all,
        upgrade=given.upgrade,
        only=given.only,
    )
    return LockResult(path, changed)


def _sources(given: LockInput) -> WheelSource:
    """cmpkg's own wheel sources for this command: recorded in the lock, compared by --check."""
    return WheelSource(given.find_links, (), given.no_index)


def stale(given: LockInput) -> list[str]:
    """Why the lock is out of date (empty: fresh); no solving, no network."""
    return check(given.start, given.index_dirs, _sources(given))
