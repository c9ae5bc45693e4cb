"""`sweep plan`: lock every build of a sweep and say, before anything runs, which cells can.

I/O edge around `cmpkg.sweep.matrix` (pure) and the lock machinery: each build is solved and
locked once per target (`cmpkg.lock.make.lock_target`, the same code as `cmpkg lock`); a target
the solver refuses makes that build's cells on it *invalid*, keeping the solver's own
explanation, and the other targets still go into the build's lock. The plan is written to
`<sweep dir>/plan.json` with the digest of its inputs, so `sweep run` re-plans (re-solves)
only when the manifest, the index or a lock changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError
from cmpkg.index import Index
from cmpkg.lock import Lock, LockedTarget, render
from cmpkg.pyenv import WheelSource
from cmpkg.sweep.matrix import Build, Cell, builds, cells
from cmpkg.sweep.spec import SweepSpec

PLAN = "plan.json"
PLAN_VERSION = 1


@dataclass(frozen=True)
class Invalid:
    """Why a build cannot be made for a target: the solver's message and explanation."""

    code: str
    message: str
    details: tuple[str, ...] = ()


@dataclass(frozen=True)
class PlannedCell:
    index: int  # the Slurm array index: the cell's place in the matrix
    cell: Cell
    lock: str  # relative to the project root; "" for an invalid cell
    lock_sha256: str
    lock_target: str
    store_keys: dict[str, str] = field(default_factory=dict)
    invalid: Invalid | None = None
    index_revision: str = ""  # the index the lock was made from (RELIABILITY G.38)

    @property
    def id(self) -> str:
        return self.cell.id

    def to_json(self) -> dict[str, Any]:
        cell = self.cell
        return {
            "index": self.index,
            "id": cell.id,
            "benchmark": cell.build.benchmark,
            "request": cell.build.request,
            "variant": dict(cell.build.variant),
            "scenario": cell.scenario,
            "target": cell.target,
            "repeat": cell.repeat,
            "lock": self.lock,
            "lock-sha256": self.lock_sha256,
            "lock-target": self.lock_target,
            "store-keys": self.store_keys,
            "index-revision": self.index_revision,
            "invalid": None if self.invalid is None else _invalid_json(self.invalid),
        }


@dataclass(frozen=True)
class Plan:
    spec: SweepSpec
    digest: str
    cells: tuple[PlannedCell, ...]

    @property
    def valid(self) -> tuple[PlannedCell, ...]:
        return tuple(c for c in self.cells if c.invalid is None)

    @property
    def invalid(self) -> tuple[PlannedCell, ...]:
        return tuple(c for c in self.cells if c.invalid is not None)

    def cell(self, cell_id: str) -> PlannedCell:
        for planned in self.cells:
            if planned.id == cell_id:
                return planned
        raise CmpkgError("unknown-cell", f"the sweep has no cell {cell_id!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "plan-version": PLAN_VERSION,
            "sweep": self.spec.name,
            "digest": self.digest,
            "profile": self.spec.profile,
            "args": list(self.spec.args),
            "cells": [c.to_json() for c in self.cells],
        }


def _invalid_json(invalid: Invalid) -> dict[str, Any]:
    return {"code": invalid.code, "message": invalid.message, "details": list(invalid.details)}


def make_plan(
    spec: SweepSpec,
    extra_index: Sequence[Path],
    wheels: WheelSource,
    *,
    backend: str = "auto",
    replan: bool = False,
) -> Plan:
    """The sweep's plan: the one on disk when its inputs are unchanged, else a new one."""
    from cmpkg.index import load_active_index

    index = load_active_index([*(spec.root / d for d in spec.index), *extra_index])
    digest = _digest(spec, index)
    if not replan:
        kept = _read_plan(spec, digest)
        if kept is not None:
            return kept
    planned: list[PlannedCell] = []
    all_cells = cells(spec)
    for build in builds(spec):
        mine = [c for c in all_cells if c.build == build]
        targets = sorted({c.target for c in mine}, key=spec.targets.index)
        locked, invalid, lock_path = _lock_build(spec, index, build, targets, wheels, backend)
        planned += [
            _planned(all_cells.index(c), c, locked, invalid, lock_path, spec, index.revision)
            for c in mine
        ]
    plan = Plan(spec, digest, tuple(sorted(planned, key=lambda c: c.index)))
    atomic.write_text(spec.dir / PLAN, json.dumps(plan.to_json(), indent=1, sort_keys=True) + "\n")
    return plan


def _digest(spec: SweepSpec, index: Index) -> str:
    return hashlib.sha256(f"{spec.digest()} {index.revision}".encode()).hexdigest()


def _lock_build(
    spec: SweepSpec,
    index: Index,
    build: Build,
    targets: list[str],
    wheels: WheelSource,
    backend: str,
) -> tuple[dict[str, LockedTarget], dict[str, Invalid], Path]:
    """Lock `build` for each target; the targets the solver refuses, with its reasons."""
    from cmpkg import __version__
    from cmpkg.config import home
    from cmpkg.lock.make import _fetch_source, lock_target, target_inputs

    locked: dict[str, LockedTarget] = {}
    invalid: dict[str, Invalid] = {}
    recipes: dict[str, str] = {}
    for target in targets:
        try:
            inputs = target_inputs(target, index, home(), None, set(), [build.request])
            locked[target], used = lock_target(
                index, [build.request], inputs, wheels, _fetch_source, backend
            )
            recipes.update(used)
        except CmpkgError as error:  # this target only: the others still lock
            invalid[target] = Invalid(error.code, error.message, error.details)
    path = spec.dir / "locks" / f"{build.id}.lock"
    if locked:
        manifest_hash = hashlib.sha256(
            json.dumps({"request": build.request, "targets": sorted(locked)}).encode()
        ).hexdigest()
        lock = Lock(
            manifest_hash,
            index.revision,
            ("shipped", *spec.index),
            recipes,
            locked,
            __version__,
        )
        _write_if_changed(path, render(lock))
    return locked, invalid, path


def _write_if_changed(path: Path, text: str) -> None:
    if not path.exists() or path.read_text() != text:
        atomic.write_text(path, text)


def _planned(
    index: int,
    cell: Cell,
    locked: dict[str, LockedTarget],
    invalid: dict[str, Invalid],
    lock_path: Path,
    spec: SweepSpec,
    revision: str,
) -> PlannedCell:
    if cell.target in invalid:
        return PlannedCell(index, cell, "", "", "", {}, invalid[cell.target])
    target = locked[cell.target]
    keys = {name: package.key for name, package in sorted(target.packages.items())}
    if target.environment_key:
        keys["python-env"] = target.environment_key
    sha = hashlib.sha256(lock_path.read_bytes()).hexdigest()
    rel = str(lock_path.relative_to(spec.root))
    return PlannedCell(index, cell, rel, sha, target.name, keys, None, revision)


def _read_plan(spec: SweepSpec, digest: str) -> Plan | None:
    """The plan on disk if it was made from these inputs and its locks are untouched."""
    path = spec.dir / PLAN
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if data.get("plan-version") != PLAN_VERSION or data.get("digest") != digest:
        return None
    by_id = {c.id: (i, c) for i, c in enumerate(cells(spec))}
    planned = []
    for item in data["cells"]:
        if item["id"] not in by_id:
            return None
        if item["lock"] and not _lock_intact(spec.root / item["lock"], item["lock-sha256"]):
            return None
        planned.append(_from_json(item, by_id[item["id"]]))
    return Plan(spec, digest, tuple(planned))


def _lock_intact(path: Path, sha256: str) -> bool:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest() == sha256
    except OSError:
        return False


def _from_json(item: dict[str, Any], found: tuple[int, Cell]) -> PlannedCell:
    index, cell = found
    bad = item.get("invalid")
    invalid = Invalid(bad["code"], bad["message"], tuple(bad["details"])) if bad else None
    return PlannedCell(
        index,
        cell,
        item["lock"],
        item["lock-sha256"],
        item["lock-target"],
        dict(item["store-keys"]),
        invalid,
        item.get("index-revision", ""),
    )
