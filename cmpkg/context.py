"""The inputs every resolving command gathers: the index stack, the target, the tools found.

This is the I/O edge in front of `cmpkg.resolve`: it loads recipes, probes (or reads a
profile), parses the requests, detects the tools they can reach for a host target, and
turns all of it into the plain values of a `ResolveTask`: probe, then resolve, never both at
once. For a profile target nothing on this machine is looked at: the profile's Python version
stands in for the detected interpreter.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg.index import Index
from cmpkg.index.model import Dependency, Recipe
from cmpkg.probe import Target, resolve_target
from cmpkg.probe.tools import DetectCache, detect_all
from cmpkg.resolve import FactValue, Preference, ResolveTask, reachable_tools


class Context(NamedTuple):
    """Not a dataclass: `dataclasses` costs every resolve its import (cmpkg.index.model). The
    field `index` shadows `tuple.index` (never called on it), as in `cmpkg.config.Config`."""

    index: Index  # type: ignore[assignment]
    target: Target
    facts: dict[str, FactValue]
    tools: Mapping[str, FactValue]  # detected before resolving: plain values
    python: str | None  # the interpreter path for Python environments (host targets only)
    requests: tuple[Dependency, ...] = ()
    locked_target: Any = None  # the lock's target when installing from a lock
    mirror: Any = None  # the opened mirror, if any
    choice: str | None = None  # why that lock target was chosen
    lock: Mapping[str, str] | None = None  # where it came from: path, sha256, target, ...

    def replace(self, **changes: Any) -> Context:
        """A copy with `changes` (as `dataclasses.replace`)."""
        return self._replace(**changes)

    def preference(
        self, pins: dict[str, tuple[str, tuple[tuple[str, str], ...]]] | None = None
    ) -> Preference:
        """Prefer cuda values on a target with CUDA; `--target cuda` also requires them."""
        return cuda_preference(self.target, pins or {})

    def task(self, backend: str = "auto") -> ResolveTask:
        return ResolveTask(
            self.index, self.facts, self.tools, self.requests, self.preference(), backend
        )


def cuda_preference(
    target: Target, pins: dict[str, tuple[str, tuple[tuple[str, str], ...]]]
) -> Preference:
    """`device=cuda` is preferred where the target has CUDA, and required for `--target cuda`."""
    cuda = (("device", "cuda"),)
    return Preference(pins, cuda if target.cuda else (), cuda if target.requires_cuda else ())


class Sources(NamedTuple):  # a NamedTuple: see cmpkg.resolve's FactValue
    """Where recipes, artifacts and wheels come from: extra index dirs and a mirror."""

    index_dirs: tuple[Path, ...] = ()  # --index, stacked after the shipped index
    mirror: str | None = None  # --mirror; None: CMPKG_MIRROR, then the config file's
    force_mirror: bool = False  # accept a mirror older than one used before


def open_mirror(sources: Sources) -> Any:
    """The mirror named by `sources`, CMPKG_MIRROR or the config, opened and verified."""
    from cmpkg import config, envvars

    location = sources.mirror or envvars.get("CMPKG_MIRROR") or config.load().mirror
    if not location:
        return None
    from cmpkg.mirror import open_mirror as open_location

    return open_location(location, config.home(), force=sources.force_mirror)


def gather(sources: Sources, target_spec: str, requests: Sequence[str] = ()) -> Context:
    """Every input of a resolution, from the sources, the target spec and the requests."""
    from cmpkg.config import home

    return load(sources.index_dirs, target_spec, home(), open_mirror(sources), requests)


def is_host(target: Target) -> bool:
    return target.origin("arch").probed


def load(
    index_dirs: Sequence[Path],
    target_spec: str,
    home: Path,
    mirror: Any = None,
    requests: Sequence[str] = (),
) -> Context:
    """`mirror` (an opened `cmpkg.mirror.Mirror`) replaces the shipped index by its snapshot."""
    from cmpkg.index import compiled, load_active_index, load_index

    if mirror is not None:
        index = load_index([*mirror.index_dirs(), *index_dirs], home / compiled.CACHE_DIR)
    else:
        index = load_active_index(list(index_dirs), home / compiled.CACHE_DIR)
    return for_target(index, target_spec, home, requests, mirror)


def for_target(
    index: Index, target_spec: str, home: Path, requests: Sequence[str] = (), mirror: Any = None
) -> Context:
    """The context of `requests` on one target of a loaded index: what `cmpkg lock` gathers
    for each target of a project, and `load` for the command line's one."""
    from cmpkg.resolve import parse_request

    target = resolve_target(target_spec)
    facts = {name: FactValue(f.version, f.source) for name, f in target.facts().items()}
    deps = tuple(parse_request(r, index) for r in requests)
    tools = tools_for(target, index, home, reachable_tools(index, deps))
    python = tools["python"].source if is_host(target) and "python" in tools else None
    return Context(index, target, facts, tools, python, deps, None, mirror)


def tools_for(
    target: Target, index: Index, home: Path, names: Iterable[str] = ()
) -> dict[str, FactValue]:
    """The named tools (those a resolution can reach), probed now for a host target: version
    and path; the profile's Python otherwise. Python is always looked for on a host: it makes
    the environments."""
    if not is_host(target):
        return {"python": FactValue(target.python, f"profile {target.name}")}
    names = {"python", *names}
    recipes = [r for n in sorted(names) for r in index.get(n)[:1] if _detectable(r)]
    found = detect_all(recipes, DetectCache(home / "detect-v2.json"))
    return {name: FactValue(d.version, d.path) for name, d in found.items()}


def _detectable(recipe: Recipe) -> bool:
    return recipe.provide is not None and recipe.provide.method == "detect"
