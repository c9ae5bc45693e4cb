"""The lockfile `cmpkg.lock`, from its values to the workflow that makes it.

    model    the values (pure)                 render   Lock -> TOML text (pure)
    parse    TOML -> Lock, and reading a file  check    is a lock still fresh?
    choose   which locked target this machine installs
    restore  a locked target back into a Resolution
    make     the locking workflow (solve, pin sources and wheels, write)

This package's `__init__` exposes only the pure parts, so importing a lock's values never
imports the solver, the store or the network.
"""

from __future__ import annotations

from cmpkg.lock.model import (
    LOCK_VERSION,
    Lock,
    LockedPackage,
    LockedSource,
    LockedTarget,
    LockedWheel,
    recipe_label,
)
from cmpkg.lock.parse import parse, read_lock
from cmpkg.lock.render import render

__all__ = [
    "LOCK_VERSION",
    "Lock",
    "LockedPackage",
    "LockedSource",
    "LockedTarget",
    "LockedWheel",
    "parse",
    "read_lock",
    "recipe_label",
    "render",
]
