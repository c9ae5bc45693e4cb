"""The lock workflows: write a project's lock, check it, and choose the target to install.

I/O edge around `cmpkg.lock` (pure) and `cmpkg.locker`: reads the manifest and the previous
lock, gathers each target's facts (profiles carry them, so a CPU laptop locks for an H200),
writes the lock atomically, and matches a lock's targets against this machine.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from cmpkg.atomic import write_text
from cmpkg.errors import CmpkgError, InputError, UsageError
from cmpkg.index import Index
from cmpkg.index.fields import Problems
from cmpkg.index.load import read_toml
from cmpkg.lock import Lock, LockedSource, LockedTarget, parse, render, stale_reasons
from cmpkg.locker import TargetInputs, lock_target
from cmpkg.manifest import LOCKFILE, Manifest, require
from cmpkg.probe import Target
from cmpkg.pyenv import WheelSource
from cmpkg.resolve import FactValue, Pin
from cmpkg.store.store import default_root


def read_lock(path: Path) -> Lock:
    problems = Problems(path)
    if not path.exists():
        raise UsageError("no-lock", f"{path} does not exist", hint="write it with `cmpkg lock`")
    raw = read_toml(path, problems)
    lock = parse(raw, problems) if raw is not None else None
    if lock is None:
        raise InputError(problems.lines, hint="re-create it with `cmpkg lock`")
    return lock


def _index(manifest: Manifest, extra: Sequence[Path]) -> Index:
    from cmpkg.index import load_active_index

    return load_active_index([*manifest.index_dirs(), *extra])


def check(start: Path, extra: Sequence[Path]) -> list[str]:
    """Reasons the lock is stale; no solving, no network."""
    manifest = require(start)
    lock = read_lock(manifest.root / LOCKFILE)
    return stale_reasons(lock, manifest.content_hash(), manifest.targets, _index(manifest, extra))


def write_lock(
    start: Path,
    extra_index: Sequence[Path],
    wheels: WheelSource,
    *,
    backend: str = "auto",
    upgrade_all: bool = False,
    upgrade: Collection[str] = (),
) -> tuple[Path, bool]:
    """Lock the project at or above `start`; return the lock's path and whether it changed.
    The previous lock's pins are preferred, except for `upgrade` (or all, `upgrade_all`)."""
    manifest = require(start)
    index = _index(manifest, extra_index)
    path = manifest.root / LOCKFILE
    previous = None if upgrade_all or not path.exists() else _previous(path)
    lock = make_lock(
        index,
        manifest.requests,
        manifest.targets,
        wheels,
        backend=backend,
        previous=previous,
        upgrade=upgrade,
    )
    lock = replace(
        lock, manifest_hash=manifest.content_hash(), index_sources=("shipped", *manifest.index)
    )
    text = render(lock)
    changed = not path.exists() or path.read_text() != text
    if changed:
        write_text(path, text)
    return path, changed


def make_lock(
    index: Index,
    requests: Sequence[str],
    targets: Sequence[str],
    wheels: WheelSource,
    *,
    backend: str = "auto",
    previous: Lock | None = None,
    upgrade: Collection[str] = (),
) -> Lock:
    """A lock of `requests` for every target (no manifest hash: the caller sets it)."""
    from cmpkg import __version__

    locked: dict[str, LockedTarget] = {}
    recipes: dict[str, str] = {}
    for spec in targets:
        inputs = target_inputs(spec, index, default_root(), previous, set(upgrade))
        locked[spec], used = lock_target(index, requests, inputs, wheels, _fetch_source, backend)
        recipes.update(used)
    return Lock("", index.revision, ("shipped",), recipes, locked, __version__)


def _previous(path: Path) -> Lock | None:
    try:
        return read_lock(path)
    except CmpkgError:
        return None  # an unreadable old lock only loses its preferences


def target_inputs(
    spec: str, index: Index, home: Path, previous: Lock | None, upgrade: set[str]
) -> TargetInputs:
    from cmpkg.context import cuda_preference, is_host, tools_for
    from cmpkg.probe import resolve_target

    target = resolve_target(spec)
    facts = {n: FactValue(f.version, f.source) for n, f in target.facts().items()}
    tools = tools_for(target, index, home)
    pins = {}
    if previous is not None and spec in previous.targets:
        pins = {
            n: (p.version, p.variant)
            for n, p in previous.targets[spec].packages.items()
            if n not in upgrade
        }
    python = tools["python"].version if "python" in tools else target.python
    platforms = () if is_host(target) else target.platform_tags
    return TargetInputs(spec, facts, tools, python, platforms, cuda_preference(target, pins))


def _fetch_source(pin: Pin, source: Any) -> LockedSource:
    """Fetch an md5-only artifact, verify the md5, and pin the sha256 of those bytes."""
    from cmpkg import fetch
    from cmpkg.store.store import Store

    artifact = fetch.Artifact(
        f"{pin.name} ({source.filename})",
        source.urls,
        source.filename,
        None,
        source.size,
        source.md5,
    )
    got = fetch.fetch(artifact, Store(default_root()).downloads_dir)
    return LockedSource(source.filename, source.urls, got.sha256, got.size)


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
