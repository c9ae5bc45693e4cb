"""Choosing the target of a lock to install on this machine (docs/lockfile.md)."""

from __future__ import annotations

from typing import Any

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.lock.model import Lock, LockedTarget
from cmpkg.probe import Target


def choose_target(lock: Lock, target: Target, forced: str | None) -> LockedTarget:
    """The lock's target for this machine: forced by name, or the first whose hardware
    requirements this machine meets; if none, say which facts differ."""
    if forced is not None:
        if forced not in lock.targets:
            raise UsageError(
                "unknown-lock-target",
                f"the lock has no target {forced!r}",
                hint=f"it has: {', '.join(lock.targets)}",
            )
        chosen = lock.targets[forced]
        misses = _misses(chosen, target)
        if misses:
            raise CmpkgError(
                "target-mismatch",
                f"this machine does not match lock target {forced}",
                details=misses,
            )
        return chosen
    report = []
    for name, locked in lock.targets.items():
        misses = _misses(locked, target)
        if not misses:
            return locked
        report += [f"{name}: {m}" for m in misses]
    raise CmpkgError(
        "no-matching-target",
        "this machine matches none of the lock's targets",
        details=report,
        hint="lock for this machine too (add a target to cmpkg.toml), or use another machine",
    )


def _misses(locked: LockedTarget, target: Target) -> list[str]:
    facts = target.facts()
    misses = []
    for req in sorted({r for p in locked.packages.values() for r in p.requires}):
        if not target.satisfies(req):
            name = req.split(" ", 1)[0]
            have = facts.get(name)
            base = name.split("=", 1)[0]
            found = have.version if have else _feature(facts, base)
            misses.append(f"needs {req}; this machine has {found}")
    return misses


def _feature(facts: dict[str, Any], base: str) -> str:
    values = sorted(n.split("=", 1)[1] for n in facts if n.startswith(base + "="))
    return f"{base}={','.join(values)}" if values else f"no {base}"
