"""What an install will do, computed before it does anything (pure).

From a `Resolution` and a test for keys already complete in the store, `make_plan` returns
a `Plan`: every package with its store key and method, in dependency order, split into
what is cached and what must be done. Nothing here touches
disk or network, so `cmpkg install --dry-run` prints exactly what an install would do.

Store keys (docs/store.md) hash the recipe's digest, version and variant values, the keys of
the pinned dependencies and the values of the facts the package depends on; the Python
environment's key hashes the interpreter version, every requirement and the wheel indexes.
Two variants never share an entry and an edited recipe never reuses one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cmpkg.resolve import FactValue, Pin, Resolution
from cmpkg.store.keys import entry_key

#: The Python environment of a resolution is one store entry under this pseudo-name.
PYENV = "python-env"


@dataclass(frozen=True)
class Step:
    """One package to provide, or the Python environment (name `python-env`)."""

    name: str
    key: str
    method: str  # detect | download | python | generate | user-path | meta | venv
    pin: Pin | None  # None for the Python environment
    needs: tuple[str, ...]  # names of steps that must be done first
    cached: bool


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]  # dependencies first
    requirements: tuple[str, ...]  # every pip requirement of the environment
    index_urls: tuple[str, ...]  # extra wheel indexes that the variants ask for
    system_site: bool = False  # a detected system module is part of the environment

    @property
    def todo(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if not s.cached)

    def waves(self) -> list[tuple[Step, ...]]:
        """The steps in groups whose members need only steps of earlier groups (plan order
        kept inside a group): each group can be built in parallel."""
        depth: dict[str, int] = {}
        for step in self.steps:  # dependencies come first in `steps`
            depth[step.name] = 1 + max((depth[n] for n in step.needs), default=-1)
        count = max(depth.values(), default=-1) + 1
        return [tuple(s for s in self.steps if depth[s.name] == d) for d in range(count)]

    def step(self, name: str) -> Step:
        return next(s for s in self.steps if s.name == name)

    def keys(self) -> dict[str, str]:
        return {s.name: s.key for s in self.steps}


def python_requirements(resolution: Resolution) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pip requirements and extra index URLs of every `python` package, sorted."""
    reqs: set[str] = set()
    urls: set[str] = set()
    for pin in resolution.pins.values():
        provide = pin.recipe.provide
        if provide is None or provide.method != "python":
            continue
        reqs.update(provide.requirements)
        urls.update([provide.index_url] if provide.index_url else [])
        for group, value in pin.variant:
            chosen = pin.recipe.group(group).value(value)  # type: ignore[union-attr]
            reqs.update(chosen.python)
            urls.update([chosen.index_url] if chosen.index_url else [])
    return tuple(sorted(reqs)), tuple(sorted(urls))


def make_plan(
    resolution: Resolution,
    present: Callable[[str], bool],
) -> Plan:
    """The plan for a resolution; `present(key)` says whether the store has a complete entry."""
    requirements, urls = python_requirements(resolution)
    system_site = uses_system_site(resolution)
    keys: dict[str, str] = {}
    steps: list[Step] = []
    env_needed = bool(requirements) or system_site
    if env_needed:
        env_inputs: dict[str, Any] = {
            "kind": PYENV,
            "python": _python_version(resolution),
            "requirements": requirements,
        }
        env_inputs |= {"index_urls": urls, **({"system-site": True} if system_site else {})}
        env_key = entry_key(env_inputs)
        keys[PYENV] = env_key
        steps.append(Step(PYENV, env_key, "venv", None, (), present(env_key)))
    for name in resolution.order():
        pin = resolution.pins[name]
        key = _key(pin, keys, resolution.facts)
        keys[name] = key
        method = pin.recipe.provide.method if pin.recipe.provide else "meta"
        needs = pin.needs + ((PYENV,) if env_needed and method == "generate" else ())
        steps.append(Step(name, key, method, pin, needs, present(key)))
    return Plan(tuple(steps), requirements, urls, system_site)


def uses_system_site(resolution: Resolution) -> bool:
    """Whether a detected Python module (`system-site-packages = true`) is pinned."""
    return any(
        p.recipe.provide is not None and p.recipe.provide.system_site_packages
        for p in resolution.pins.values()
    )


def _python_version(resolution: Resolution) -> str | None:
    pin = resolution.pins.get("python")
    return pin.version if pin else None


def _key(pin: Pin, keys: Mapping[str, str], facts: Mapping[str, FactValue]) -> str:
    """A package's store key. A detected tool is keyed by its version, not by its path: the
    same version found elsewhere is the same package, and a new version is a new entry."""
    inputs: dict[str, Any] = {
        "name": pin.name,
        "recipe": pin.recipe.digest,
        "version": pin.version,
        "variant": dict(pin.variant),
        "depends": {dep: keys[dep] for dep in pin.needs},
        "facts": {f: facts[f].version for f in pin.facts if f in facts},
    }
    if pin.recipe.provide is not None and pin.recipe.provide.method == "python":
        inputs["python-env"] = keys.get(PYENV)
    return entry_key(inputs)
