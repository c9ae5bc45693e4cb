"""Making a lock, and turning a lock back into something to install.

`lock_target` resolves one target of a manifest (preferring what the previous lock pinned,
unless upgrading), computes the store keys the install will use, pins every source's sha256
(fetching where a recipe gives only md5) and resolves the Python wheels for that target's
interpreter and platform. `resolution_from_lock` rebuilds a `Resolution` from a locked
target without solving, checking that every recipe is still the one that was locked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from cmpkg.errors import CmpkgError
from cmpkg.index import Index
from cmpkg.lock import LockedPackage, LockedSource, LockedTarget, recipe_label
from cmpkg.plan import PYENV, Plan, make_plan, python_requirements
from cmpkg.pyenv import WheelSource
from cmpkg.resolve import FactValue, Pin, Preference, Resolution, parse_request, resolve
from cmpkg.wheels import resolve_wheels

Fetcher = Callable[[Pin, object], LockedSource]


@dataclass(frozen=True)
class TargetInputs:
    """What one target contributes to a lock: facts, tools, Python and platform tags."""

    name: str
    facts: Mapping[str, FactValue]
    tools: Mapping[str, FactValue]
    python: str
    platforms: tuple[str, ...]  # empty: this machine's own platform
    preference: Preference


def lock_target(
    index: Index,
    requests: Sequence[str],
    inputs: TargetInputs,
    wheels: WheelSource,
    fetch_source: Fetcher,
    backend: str = "auto",
) -> tuple[LockedTarget, dict[str, str]]:
    """One target's lock section, and the labels/digests of the recipes it used."""
    deps = [parse_request(r, index) for r in requests]
    resolution = resolve(index, inputs.facts, inputs.tools, deps, inputs.preference, backend)
    plan = make_plan(resolution, lambda _key: False)
    requirements, urls = python_requirements(resolution)
    python = inputs.python.rsplit(".", 1)[0] if inputs.python.count(".") > 1 else inputs.python
    locked_wheels = resolve_wheels(requirements, urls, python, inputs.platforms, wheels)
    packages = {name: _package(pin, plan, fetch_source) for name, pin in resolution.pins.items()}
    used_facts = {f for p in resolution.pins.values() for f in p.facts}
    target = LockedTarget(
        name=inputs.name,
        python=inputs.python,
        platform=inputs.platforms,
        facts={f: (v.version, v.source) for f, v in inputs.facts.items() if f in used_facts},
        roots=resolution.roots,
        packages=packages,
        wheels=locked_wheels,
        environment_key=plan.keys().get(PYENV),
    )
    recipes = {
        recipe_label(p.name, p.recipe.version): p.recipe.digest for p in resolution.pins.values()
    }
    return target, recipes


def _package(pin: Pin, plan: Plan, fetch_source: Fetcher) -> LockedPackage:
    sources = []
    for source in pin.recipe.sources:
        if all(dict(pin.variant).get(g) == v for g, v in source.when):
            if source.sha256 and source.size is not None:
                sources.append(
                    LockedSource(source.filename, source.urls, source.sha256, source.size)
                )
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


def resolution_from_lock(index: Index, target: LockedTarget) -> Resolution:
    """The locked packages as a `Resolution`, with the recipes they were locked from."""
    pins = {}
    for name, locked in target.packages.items():
        recipe = next(
            (r for r in index.get(name) if r.version is None or str(r.version) == locked.version),
            None,
        )
        if recipe is None or recipe.digest != locked.recipe:
            what = "is missing from" if recipe is None else "differs in"
            raise CmpkgError(
                "stale-lock",
                f"the recipe of {name} {locked.version} {what} the index "
                "since the lock was written",
                hint="run `cmpkg lock` to re-lock",
            )
        needed = tuple(r.split(" ", 1)[0] for r in locked.requires)
        pins[name] = Pin(
            recipe, locked.version, locked.variant, locked.needs, needed, locked.requires
        )
    facts = {k: FactValue(v, s) for k, (v, s) in target.facts.items()}
    return Resolution(pins, (), target.roots, facts, {}, "lock")


def check_keys(plan: Plan, target: LockedTarget) -> None:
    """The keys an install computes must be the locked ones: anything else is drift."""
    keys = plan.keys()
    for name, locked in target.packages.items():
        if keys.get(name) != locked.key:
            raise CmpkgError(
                "key-mismatch",
                f"{name}: store key {keys.get(name, '?')[:12]} "
                f"differs from the locked {locked.key[:12]}",
                hint="the lock was written by another cmpkg version or index; run `cmpkg lock`",
            )
