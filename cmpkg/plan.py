"""What an install will do, computed before it does anything (pure).

From a `Resolution`, a test for keys already complete in the store and the `PlanSources`
(interpreter, detected tools, user paths, mirror URLs, the lock's wheels), `make_plan`
returns a `Plan`: every package with its store key, its method and everything its execution
needs, in dependency order, split into what is cached and what must be done. Nothing here
touches disk or network, so `cmpkg install --dry-run` prints exactly what an install would
do, and the executor (`cmpkg.install`) reads nothing but the plan and its policy.

Store keys (docs/store.md) hash exactly the inputs that determine an entry's bytes:
* a package: its recipe's digest, version and variant values, the keys of the pinned
  dependencies and the values of the facts it depends on;
* a Python environment: the interpreter version and, from a lock, the sorted
  (name, version, sha256) of its wheels and the platform tags they were chosen for (without
  a lock, the requirements and wheel indexes: what the installer will resolve);
* a `python` package: only what it asks for (it is a name in the environment, not files), so
  an unrelated wheel joining the environment changes the environment's key and nothing else;
* a `generate` step: its inputs plus the key of its own minimal tool environment, the
  Python packages in its dependency closure only (docs/design.md, "Minimal rebuilds").
Two variants never share an entry and an edited recipe never reuses one.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from cmpkg.index.model import HubFile, Recipe
from cmpkg.lock.model import LockedWheel
from cmpkg.resolve import FactValue, Pin, Resolution
from cmpkg.store.keys import entry_key

#: The Python environment of a resolution is one store entry under this pseudo-name.
PYENV = "python-env"


def tool_env_name(package: str) -> str:
    """The step name of the minimal tool environment a `generate` step of `package` runs in."""
    return f"{PYENV}:{package}"


@dataclass(frozen=True)
class PythonEnv:
    """A venv to build: everything the installer needs, and what its key hashes."""

    interpreter: str  # the interpreter path the venv is made from
    python: str | None  # that interpreter's version, as pinned
    requirements: tuple[str, ...]  # every requirement, sorted
    index_urls: tuple[str, ...]  # extra wheel indexes that the variants ask for
    wheels: tuple[LockedWheel, ...] = ()  # the exact files, from a lock; () : resolve at install
    platform: tuple[str, ...] = ()  # the wheel tags `wheels` were chosen for
    system_site: bool = False  # a detected system module is part of the environment
    find_links: tuple[str, ...] = ()  # where the files may come from (not part of the key)
    no_index: bool = False

    def key_inputs(self) -> dict[str, Any]:
        inputs: dict[str, Any] = {"kind": PYENV, "python": self.python}
        if self.wheels:  # what is in it: the files, not the requests that chose them
            inputs["wheels"] = sorted([w.name.lower(), w.version, w.sha256] for w in self.wheels)
            inputs["platform"] = list(self.platform)
        else:
            inputs |= {"requirements": self.requirements, "index_urls": self.index_urls}
        return inputs | ({"system-site": True} if self.system_site else {})


@dataclass(frozen=True)
class Download:
    """One verified download of a `download` step: mirror URLs first, then the recipe's."""

    filename: str
    urls: tuple[str, ...]
    sha256: str | None
    size: int | None
    md5: str | None
    extract: bool
    place: str = ""  # the path in the entry (a hub file's repository path); "" : filename
    hub: HubFile | None = None  # a file of a Hugging Face repository (token, gating)

    @property
    def target(self) -> str:
        return self.place or self.filename


@dataclass(frozen=True)
class Step:
    """One package to provide, or a Python environment (`python-env`, `python-env:PKG`)."""

    name: str
    key: str
    method: str  # detect | download | python | generate | user-path | meta | venv
    pin: Pin | None  # None for a Python environment
    needs: tuple[str, ...]  # names of steps that must be done first
    cached: bool
    env: PythonEnv | None = None  # venv: the environment to build
    downloads: tuple[Download, ...] = ()  # download: the files, verified
    found: FactValue | None = None  # detect: the version and path found on this machine
    user_path: str | None = None  # user-path: the directory given with --with NAME.path=DIR
    runs_in: str | None = None  # generate: the venv step whose Python runs the script
    interpreter: str = ""  # generate without Python packages: the bare interpreter


@dataclass(frozen=True)
class PlanSources:
    """What a plan needs besides the resolution: values gathered at the edges."""

    interpreter: str = ""  # the detected interpreter's path (host targets)
    tools: Mapping[str, FactValue] = field(default_factory=dict)  # detected tools
    user_paths: Mapping[str, str] = field(default_factory=dict)  # --with NAME.path=DIR
    mirror_urls: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # filename -> URLs
    wheels: Mapping[str, tuple[LockedWheel, ...]] = field(default_factory=dict)  # env -> files
    platform: tuple[str, ...] = ()  # wheel tags the lock's wheels were chosen for
    find_links: tuple[str, ...] = ()
    no_index: bool = False


@dataclass(frozen=True)
class Plan:
    steps: tuple[Step, ...]  # dependencies first

    @property
    def env(self) -> PythonEnv | None:
        """The resolution's Python environment (what `cmpkg run` puts first on PATH)."""
        return next((s.env for s in self.steps if s.name == PYENV), None)

    @property
    def requirements(self) -> tuple[str, ...]:
        return self.env.requirements if self.env else ()

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

    def runtime_keys(self) -> list[str]:
        """The keys of what the installed environment uses when it runs: every step's but
        the tool environments that only `generate` steps run in. Those are build inputs
        (Nix's build-time dependencies): their products are entries of their own, and
        nothing run from the environment reads them (docs/design.md, "The no-op fast
        path"). A tool environment that is also the main one keeps its key here."""
        tools = {s.runs_in for s in self.steps if s.runs_in}
        return sorted({s.key for s in self.steps if s.name not in tools})


def python_requirements(
    resolution: Resolution, names: Collection[str] | None = None
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The pip requirements and extra index URLs of the `python` packages (of `names` only,
    when given), sorted."""
    reqs: set[str] = set()
    urls: set[str] = set()
    for pin in resolution.pins.values():
        provide = pin.recipe.provide
        if provide is None or provide.method != "python":
            continue
        if names is not None and pin.name not in names:
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
    sources: PlanSources = PlanSources(),
) -> Plan:
    """The plan for a resolution; `present(key)` says whether the store has a complete entry."""
    keys: dict[str, str] = {}
    steps: list[Step] = []
    env = _env(resolution, set(resolution.pins), PYENV, sources)
    if env is not None:
        keys[PYENV] = entry_key(env.key_inputs())
        steps.append(Step(PYENV, keys[PYENV], "venv", None, (), present(keys[PYENV]), env=env))
    for name in resolution.order():
        pin = resolution.pins[name]
        method = pin.recipe.provide.method if pin.recipe.provide else "meta"
        reused = method == "download" and name in sources.user_paths
        if reused:  # the user's copy of the files (a checkpoint): checked, not downloaded
            method = "user-path"
        extra: dict[str, Any] = {}
        if method == "generate":
            steps += _tool_env(resolution, name, sources, keys, present)
            extra = _runs_in(name, keys, sources)
        key = _key(pin, keys, resolution.facts, extra.get("runs_in"), _python_version(resolution),
                   sources.user_paths[name] if reused else None)  # fmt: skip
        keys[name] = key
        needs = pin.needs + ((extra["runs_in"],) if extra.get("runs_in") else ())
        details = _details(pin, method, sources) | extra
        steps.append(Step(name, key, method, pin, needs, present(key), **details))
    return Plan(tuple(steps))


def _env(
    resolution: Resolution, names: Collection[str], name: str, sources: PlanSources
) -> PythonEnv | None:
    """The environment of the `python` packages among `names`, or None if there are none."""
    requirements, urls = python_requirements(resolution, names)
    system_site = uses_system_site(resolution, names)
    if not requirements and not system_site:
        return None
    return PythonEnv(
        interpreter=sources.interpreter,
        python=_python_version(resolution),
        requirements=requirements,
        index_urls=urls,
        wheels=sources.wheels.get(name, ()),
        platform=sources.platform if sources.wheels.get(name) else (),
        system_site=system_site,
        find_links=sources.find_links,
        no_index=sources.no_index,
    )


def _tool_env(
    resolution: Resolution,
    package: str,
    sources: PlanSources,
    keys: dict[str, str],
    present: Callable[[str], bool],
) -> list[Step]:
    """The minimal environment a `generate` step runs in: only the Python packages it
    depends on (transitively), so an unrelated wheel never invalidates generated data."""
    name = tool_env_name(package)
    env = _env(resolution, closure(resolution, package), name, sources)
    if env is None:
        return []
    keys[name] = entry_key(env.key_inputs())
    return [Step(name, keys[name], "venv", None, (), present(keys[name]), env=env)]


def _runs_in(package: str, keys: Mapping[str, str], sources: PlanSources) -> dict[str, Any]:
    name = tool_env_name(package)
    if name in keys:
        return {"runs_in": name}
    return {"interpreter": sources.interpreter}


def closure(resolution: Resolution, name: str) -> set[str]:
    """`name` and every pinned package it depends on, transitively."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = todo.pop()
        if current not in seen:
            seen.add(current)
            todo += resolution.pins[current].needs
    return seen


def _details(pin: Pin, method: str, sources: PlanSources) -> dict[str, Any]:
    """What executing one package's step needs, by method."""
    if method == "download":
        return {"downloads": downloads(pin, sources.mirror_urls)}
    if method == "detect":
        return {"found": sources.tools.get(pin.name)}
    if method == "user-path":
        # A download recipe's files are checked against their recorded hashes and sizes.
        return {"user_path": sources.user_paths.get(pin.name), "downloads": downloads(pin, {})}
    return {}


def downloads(pin: Pin, mirror_urls: Mapping[str, tuple[str, ...]]) -> tuple[Download, ...]:
    """The active sources of a pin (those whose `when` its variant meets), mirrors first."""
    variant = dict(pin.variant)
    return tuple(
        Download(
            s.filename,
            (*mirror_urls.get(s.filename, ()), *s.urls),
            s.sha256,
            s.size,
            s.md5,
            s.extract,
            s.place,
            s.hub,
        )
        for s in active_sources(pin.recipe, variant)
    )


def active_sources(recipe: Recipe, variant: Mapping[str, str]) -> list[Any]:
    """The one rule for which of a recipe's sources a variant uses."""
    return [s for s in recipe.sources if all(variant.get(g) == v for g, v in s.when)]


def uses_system_site(resolution: Resolution, names: Collection[str] | None = None) -> bool:
    """Whether a detected Python module (`system-site-packages = true`) is pinned."""
    return any(
        p.recipe.provide is not None
        and p.recipe.provide.system_site_packages
        and (names is None or p.name in names)
        for p in resolution.pins.values()
    )


def _python_version(resolution: Resolution) -> str | None:
    pin = resolution.pins.get("python")
    return pin.version if pin else None


def _key(
    pin: Pin,
    keys: Mapping[str, str],
    facts: Mapping[str, FactValue],
    runs_in: str | None,
    python: str | None,
    checked_path: str | None = None,
) -> str:
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
    method = pin.recipe.provide.method if pin.recipe.provide else "meta"
    if method == "generate":  # generated bytes depend on the Python that made them
        inputs["tool-env"] = keys[runs_in] if runs_in else {"python": python}
    if checked_path is not None:  # a download reused from the user's directory: that one
        inputs["user-path"] = checked_path
    return entry_key(inputs)
