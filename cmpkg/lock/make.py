"""Making a lock: solve every target of a project, pin its sources and its Python wheels.

The locking workflow's I/O edge: reads the project file and the previous lock, gathers each
target's facts (profiles carry them, so a CPU laptop locks for an H200), resolves (preferring
what the previous lock pinned, unless upgrading), computes the store keys the install will
use, pins every source's sha256 (fetching where a recipe gives only md5), resolves the
Python wheels for that target's interpreter and platform and writes the lock atomically.
Targets are solved one after the other (the solver is CPU-bound Python); then every wheel
resolution of every target (its environment and each generate step's tool environment), uv
subprocesses memoised by their inputs (`cmpkg.wheels`), runs side by side.
"""

from __future__ import annotations

import sysconfig
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cmpkg import status
from cmpkg.atomic import write_text
from cmpkg.config import home
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.index import Index
from cmpkg.lock.model import (
    Lock,
    LockedPackage,
    LockedSource,
    LockedTarget,
    LockedWheel,
    recipe_label,
)
from cmpkg.lock.parse import read_lock
from cmpkg.lock.render import render
from cmpkg.plan import (
    PYENV,
    Plan,
    PlanSources,
    active_sources,
    closure,
    make_plan,
    python_requirements,
    tool_env_name,
)
from cmpkg.project import LOCKFILE, project_index, require
from cmpkg.resolve import (
    FactValue,
    Pin,
    Preference,
    Resolution,
    ResolveTask,
    parse_request,
    resolve,
)
from cmpkg.wheels import WheelPlatform, WheelSource, resolve_wheels, target_platform

Fetcher = Callable[[Pin, object], LockedSource]


@dataclass(frozen=True)
class TargetInputs:
    """What one target contributes to a lock: facts, tools, the Python and its platform."""

    name: str
    facts: Mapping[str, FactValue]
    tools: Mapping[str, FactValue]
    python: str  # the full version recorded in the lock ("3.11.7", or a profile's "3.12")
    platform: WheelPlatform
    preference: Preference


EnvWheels = Mapping[str, tuple[LockedWheel, ...]]  # environment step name -> its files


def write_lock(
    start: Path,
    extra_index: Sequence[Path],
    wheels: WheelSource,
    *,
    backend: str = "auto",
    upgrade_all: bool = False,
    upgrade: Collection[str] = (),
    only: Sequence[str] = (),
) -> tuple[Path, bool]:
    """Lock the project at or above `start`; return the lock's path and whether it changed.
    The previous lock's pins are preferred, except for `upgrade` (or all, `upgrade_all`).
    `only` re-locks those targets and keeps the previous lock's other targets as they are."""
    project = require(start)
    index = project_index(project, extra_index)
    path = project.root / LOCKFILE
    previous = _previous(path) if path.exists() else None
    targets = _selected(project.targets, only, previous, path)
    lock = make_lock(
        index,
        project.requests,
        targets,
        wheels,
        backend=backend,
        previous=None if upgrade_all else previous,
        upgrade=upgrade,
        refresh=upgrade_all or bool(upgrade),
    )
    if only and previous is not None:
        kept = {n: t for n, t in previous.targets.items() if n not in only}
        lock = replace(
            lock,
            targets={**kept, **lock.targets},
            recipes={**previous.recipes, **lock.recipes},
        )
    lock = replace(
        lock, manifest_hash=project.content_hash(), index_sources=("shipped", *project.index)
    )
    text = render(lock)
    changed = not path.exists() or path.read_text() != text
    if changed:
        write_text(path, text)
    return path, changed


def _selected(
    targets: Sequence[str], only: Sequence[str], previous: Lock | None, path: Path
) -> Sequence[str]:
    """The targets to solve: all of the project's, or `only` (which must be among them)."""
    if not only:
        return targets
    unknown = sorted(set(only) - set(targets))
    if unknown:
        raise UsageError(
            "unknown-target",
            f"cmpkg.toml has no target {', '.join(unknown)}",
            hint=f"its targets: {', '.join(targets)}",
        )
    if previous is None:
        raise UsageError(
            "no-lock",
            f"--target re-locks one target of {path}, which does not exist yet",
            hint="run `cmpkg lock` first",
        )
    return only


def make_lock(
    index: Index,
    requests: Sequence[str],
    targets: Sequence[str],
    wheels: WheelSource,
    *,
    backend: str = "auto",
    previous: Lock | None = None,
    upgrade: Collection[str] = (),
    refresh: bool = False,
) -> Lock:
    """A lock of `requests` for every target (no manifest hash: the caller sets it).
    `refresh` asks the wheel sources again instead of reusing a memoised resolution."""
    from cmpkg import __version__

    root = home()
    solved: dict[str, tuple[TargetInputs, Resolution]] = {}
    for spec in targets:
        with status.activity(f"locking {spec}: solving"):
            inputs = target_inputs(spec, index, root, previous, set(upgrade), requests)
            with _naming(spec):
                solved[spec] = inputs, solve(index, requests, inputs, backend)
    jobs = [
        (spec, env, requirements, urls, inputs.platform)
        for spec, (inputs, resolution) in solved.items()
        for env, (requirements, urls) in environments(resolution).items()
    ]

    def resolve_one(job: tuple[str, str, Any, Any, WheelPlatform]) -> tuple[LockedWheel, ...]:
        spec, env, requirements, urls, platform = job
        with _naming(spec), status.activity(f"locking {spec}: resolving wheels of {env}"):
            return resolve_wheels(requirements, urls, platform, wheels, root, refresh=refresh)

    # Finding uv reads sysconfig's paths, whose first computation (Python 3.11) is not
    # thread-safe: a second thread saw a half-filled table ("AttributeError: 'userbase'").
    sysconfig.get_config_vars()
    with ThreadPoolExecutor(max_workers=max(1, len(jobs)), thread_name_prefix="wheels") as pool:
        found = list(pool.map(resolve_one, jobs))
    env_wheels: dict[str, dict[str, tuple[LockedWheel, ...]]] = {spec: {} for spec in solved}
    for (spec, env, *_rest), files in zip(jobs, found, strict=True):
        env_wheels[spec][env] = files
    locked: dict[str, LockedTarget] = {}
    recipes: dict[str, str] = {}
    for spec, (inputs, resolution) in solved.items():
        with _naming(spec):
            locked[spec], used = locked_target(inputs, resolution, env_wheels[spec], _fetch_source)
        recipes.update(used)
    return Lock("", index.revision, ("shipped",), recipes, locked, __version__, sources=wheels)


@contextmanager
def _naming(spec: str) -> Iterator[None]:
    """One target of several failed: the message must say which."""
    try:
        yield
    except CmpkgError as error:
        if not error.message.startswith("lock target "):
            error.message = f"lock target {spec}: {error.message}"
            error.args = (error.message,)
        raise


def _previous(path: Path) -> Lock | None:
    try:
        return read_lock(path)
    except CmpkgError:
        return None  # an unreadable old lock only loses its preferences


def target_inputs(
    spec: str,
    index: Index,
    home: Path,
    previous: Lock | None,
    upgrade: set[str],
    requests: Sequence[str] = (),
) -> TargetInputs:
    from cmpkg.context import cuda_preference, for_target, is_host

    ctx = for_target(index, spec, home, requests)
    target, tools = ctx.target, ctx.tools
    pins = {}
    if previous is not None and spec in previous.targets:
        pins = {
            n: (p.version, p.variant)
            for n, p in previous.targets[spec].packages.items()
            if n not in upgrade
        }
    python = tools["python"].version if "python" in tools else target.python
    # A host target's wheels are those of the interpreter detected for it, not of the one
    # running cmpkg; a profile's are those of its declared Python and platform.
    interpreter = tools["python"].source if is_host(target) and "python" in tools else None
    platform = target_platform(target, python, interpreter)
    preference = cuda_preference(target, pins)
    if target.cuda is not None:  # a GPU target must not silently lock a CPU build
        preference = preference._replace(require_values=(("device", "cuda"),))
    return TargetInputs(spec, ctx.facts, tools, python, platform, preference)


def lock_target(
    index: Index,
    requests: Sequence[str],
    inputs: TargetInputs,
    wheels: WheelSource,
    fetch_source: Fetcher,
    backend: str = "auto",
) -> tuple[LockedTarget, dict[str, str]]:
    """One target's lock section, and the labels/digests of the recipes it used (one target
    at a time: `make_lock` runs the wheel resolutions of all its targets side by side)."""
    resolution = solve(index, requests, inputs, backend)
    env_wheels = {
        env: resolve_wheels(requirements, urls, inputs.platform, wheels, home())
        for env, (requirements, urls) in environments(resolution).items()
    }
    return locked_target(inputs, resolution, env_wheels, fetch_source)


def solve(index: Index, requests: Sequence[str], inputs: TargetInputs, backend: str) -> Resolution:
    deps = tuple(parse_request(r, index) for r in requests)
    return resolve(ResolveTask(index, inputs.facts, inputs.tools, deps, inputs.preference, backend))


def environments(resolution: Resolution) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every Python environment of a resolution, by step name: its requirements and indexes.
    The resolution's own (`python-env`), and each generate step's minimal tool environment
    (the Python packages of its dependency closure only, docs/design.md)."""
    found = {PYENV: python_requirements(resolution)}
    for name, pin in resolution.pins.items():
        if pin.recipe.provide is not None and pin.recipe.provide.method == "generate":
            found[tool_env_name(name)] = python_requirements(resolution, closure(resolution, name))
    return found


def locked_target(
    inputs: TargetInputs, resolution: Resolution, env_wheels: EnvWheels, fetch_source: Fetcher
) -> tuple[LockedTarget, dict[str, str]]:
    """The lock section of a solved target whose environments' wheels are known."""
    platform = inputs.platform
    tool_wheels = {
        env.split(":", 1)[1]: files for env, files in env_wheels.items() if env != PYENV and files
    }
    wheels = {
        PYENV: env_wheels.get(PYENV, ()),
        **{tool_env_name(n): w for n, w in tool_wheels.items()},
    }
    plan = make_plan(
        resolution, lambda _key: False, PlanSources(wheels=wheels, platform=platform.tags)
    )
    packages = {name: _package(pin, plan, fetch_source) for name, pin in resolution.pins.items()}
    used_facts = {f for p in resolution.pins.values() for f in p.facts}
    target = LockedTarget(
        name=inputs.name,
        python=inputs.python,
        platform=platform.tags,
        facts={f: (v.version, v.source) for f, v in inputs.facts.items() if f in used_facts},
        roots=resolution.roots,
        packages=packages,
        wheels=wheels[PYENV],
        environment_key=plan.keys().get(PYENV),
        tool_wheels=tool_wheels,
        system={
            "os": platform.os,
            "arch": platform.arch,
            "libc": platform.libc,
            "libc-version": platform.libc_version,
            "abi": platform.abi,
        },
    )
    recipes = {
        recipe_label(p.name, p.recipe.version): p.recipe.digest for p in resolution.pins.values()
    }
    return target, recipes


def _package(pin: Pin, plan: Plan, fetch_source: Fetcher) -> LockedPackage:
    sources = []
    for source in active_sources(pin.recipe, dict(pin.variant)):
        if source.sha256 and source.size is not None:
            sources.append(LockedSource(source.filename, source.urls, source.sha256, source.size))
        else:  # the publisher gave only md5: fetch, verify md5, pin what we verified
            sources.append(fetch_source(pin, source))
    return LockedPackage(
        name=pin.name,
        version=pin.version,
        variant=pin.variant,
        kind=pin.recipe.kind,
        method=pin.recipe.provide.method if pin.recipe.provide else "meta",
        key=plan.step(pin.name).key,
        recipe=pin.recipe.digest,
        needs=pin.needs,
        requires=pin.fact_requirements,
        sources=tuple(sources),
    )


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
    got = fetch.fetch(artifact, Store(home()).downloads_dir)
    return LockedSource(source.filename, source.urls, got.sha256, got.size)
