"""Choosing the target of a lock to install on this machine (docs/lockfile.md), purely.

A locked target *holds* here when every hardware requirement of its packages is met by this
machine's facts, every platform fact it recorded (`__arch=x86_64`, `__os=linux`, a minimum
`__glibc`) is present, and, when it has a Python environment, its Python's major.minor is
this machine's interpreter's. The choice:

* `--target NAME` naming a target of the lock: that one, or an error naming what differs;
* `--target cuda` / `cpu`: the most specific holding target with / without CUDA;
* otherwise (`host`, the default): the most specific holding target, where more specific
  means more distinct hardware facts required (a CUDA target beats `cpu` on a CUDA host),
  ties broken by name for determinism;
* none holding: an error listing, per target, the facts that differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from packaging.version import InvalidVersion, Version

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.lock.model import Lock, LockedTarget
from cmpkg.probe import Target

#: `--target` values that select among the lock's targets rather than name one.
KINDS = {"host": None, "cuda": True, "cpu": False}


@dataclass(frozen=True)
class Choice:
    target: LockedTarget
    reason: str  # one line for the user: why this target


def choose_target(
    lock: Lock, machine: Target, requested: str = "host", python: str | None = None
) -> Choice:
    """The lock's target for this machine; `python` is the interpreter version found here."""
    if requested in lock.targets:
        chosen = lock.targets[requested]
        misses = differences(chosen, machine, python)
        if misses:
            raise CmpkgError(
                "target-mismatch",
                f"this machine does not match lock target {requested}",
                details=misses,
                hint="lock for this machine too (add a target to cmpkg.toml), or leave out "
                "--target to choose automatically",
            )
        return Choice(chosen, f"lock target {requested}: chosen with --target")
    if requested not in KINDS:
        raise UsageError(
            "unknown-lock-target",
            f"the lock has no target {requested!r}",
            hint=f"it has: {', '.join(lock.targets)}",
        )
    return _most_specific(lock, machine, python, KINDS[requested])


def _most_specific(lock: Lock, machine: Target, python: str | None, cuda: bool | None) -> Choice:
    candidates = {
        n: t for n, t in sorted(lock.targets.items()) if cuda is None or uses_cuda(t) == cuda
    }
    holding = [n for n, t in candidates.items() if not differences(t, machine, python)]
    report = [
        f"{n}: {miss}" for n, t in candidates.items() for miss in differences(t, machine, python)
    ]
    if not holding:
        kind = {None: "", True: " CUDA", False: " CPU"}[cuda]
        raise CmpkgError(
            "no-matching-target",
            f"this machine matches none of the lock's{kind} targets",
            details=report or [f"the lock has no{kind} target"],
            hint="lock for this machine too (add a target to cmpkg.toml), or use another machine",
        )
    best = min(holding, key=lambda n: (-len(required_facts(lock.targets[n])), n))
    others = [n for n in holding if n != best]
    facts = ", ".join(sorted(required_facts(lock.targets[best]))) or "no hardware facts"
    why = f"lock target {best}: its requirements hold here ({facts})"
    if others:
        why += f"; more specific than {', '.join(others)}"
    return Choice(lock.targets[best], why)


def required_facts(target: LockedTarget) -> set[str]:
    """The distinct facts a target's packages require (`__arch`, `__cuda`, ...)."""
    required = {r.split(" ", 1)[0] for p in target.packages.values() for r in p.requires}
    return {f.split("=", 1)[0] for f in (*required, *target.facts)}


def uses_cuda(target: LockedTarget) -> bool:
    return "__cuda" in required_facts(target)


def differences(target: LockedTarget, machine: Target, python: str | None) -> list[str]:
    """What differs between a locked target and this machine (empty: it holds here)."""
    facts = machine.facts()
    misses = []
    for req in sorted({r for p in target.packages.values() for r in p.requires}):
        if not machine.satisfies(req):
            name = req.split(" ", 1)[0]
            have = facts.get(name)
            found = have.version if have else _feature(facts, name.split("=", 1)[0])
            misses.append(f"needs {req}; this machine has {found}")
    for name, (version, source) in sorted(target.facts.items()):
        if "=" in name and name not in facts:
            found = _feature(facts, name.split("=", 1)[0])
            misses.append(f"was locked for {name} ({source}); this machine has {found}")
        elif name == "__glibc" and not _at_least(facts.get(name), version):
            have = facts.get(name)
            misses.append(
                f"was locked for __glibc {version}; this machine has "
                f"{have.version if have else 'no __glibc'}"
            )
    misses += _python_difference(target, python)
    return misses


def _python_difference(target: LockedTarget, python: str | None) -> list[str]:
    locked = target.packages.get("python")
    if locked is None:  # no Python environment: any interpreter will do
        return []
    if python is None or python.split(".")[:2] != locked.version.split(".")[:2]:
        return [
            f"was locked for Python {locked.version}; this machine has "
            f"{'Python ' + python if python else 'no Python'}"
        ]
    return []


def _at_least(have: Any, version: str) -> bool:
    try:
        return have is not None and Version(have.version) >= Version(version)
    except InvalidVersion:
        return False


def _feature(facts: Mapping[str, Any], base: str) -> str:
    values = sorted(n.split("=", 1)[1] for n in facts if n.startswith(base + "="))
    return f"{base}={','.join(values)}" if values else f"no {base}"
