"""The inputs every resolving command gathers: the index stack, the target, the tools found.

This is the I/O edge in front of `cmpkg.resolve`: it loads recipes, probes (or reads a
profile), runs tool detection for a host target and turns all of it into the plain values
the pure resolver takes. For a profile target nothing on this machine is looked at: the
profile's Python version stands in for the detected interpreter.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.index import Index
from cmpkg.probe import Target, resolve_target
from cmpkg.probe.tools import DetectCache, detect
from cmpkg.resolve import FactValue, Preference


@dataclass(frozen=True)
class Context:
    index: Index
    target: Target
    facts: dict[str, FactValue]
    tools: Mapping[str, FactValue]
    python: str | None  # the interpreter path for Python environments (host targets only)
    locked_target: Any = None  # the lock's target when installing from a lock
    mirror: Any = None  # the opened mirror, if any
    choice: str | None = None  # why that lock target was chosen

    def preference(
        self, pins: dict[str, tuple[str, tuple[tuple[str, str], ...]]] | None = None
    ) -> Preference:
        """Prefer cuda values on a target with CUDA; `--target cuda` also requires them."""
        return cuda_preference(self.target, pins or {})


def cuda_preference(
    target: Target, pins: dict[str, tuple[str, tuple[tuple[str, str], ...]]]
) -> Preference:
    """`device=cuda` is preferred where the target has CUDA, and required for `--target cuda`."""
    cuda = (("device", "cuda"),)
    return Preference(pins, cuda if target.cuda else (), cuda if target.requires_cuda else ())


@dataclass(frozen=True)
class Sources:
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


def gather(sources: Sources, target_spec: str) -> Context:
    """Every input of a resolution, from the sources and the target spec."""
    from cmpkg.config import home

    return load(sources.index_dirs, target_spec, home(), open_mirror(sources))


def is_host(target: Target) -> bool:
    return target.origin("arch").probed


def load(index_dirs: Sequence[Path], target_spec: str, home: Path, mirror: Any = None) -> Context:
    """`mirror` (an opened `cmpkg.mirror.Mirror`) replaces the shipped index by its snapshot."""
    from cmpkg.index import load_active_index, load_index

    if mirror is not None:
        index = load_index([*mirror.index_dirs(), *index_dirs], home / "index-v1")
    else:
        index = load_active_index(list(index_dirs), home / "index-v1")
    target = resolve_target(target_spec)
    facts = {name: FactValue(f.version, f.source) for name, f in target.facts().items()}
    tools = tools_for(target, index, home)
    python = tools["python"].source if is_host(target) and "python" in tools else None
    return Context(index, target, facts, tools, python, None, mirror)


def tools_for(target: Target, index: Index, home: Path) -> Mapping[str, FactValue]:
    """Detected tools (version, path) for a host target; the profile's Python otherwise."""
    if not is_host(target):
        return {"python": FactValue(target.python, f"profile {target.name}")}
    return DetectedTools(index, DetectCache(home / "detect-v2.json"))


class DetectedTools(Mapping[str, FactValue]):
    """Tools detected on first look-up: a resolution pays only for the tools it reaches
    (`cmpkg install` of a CPU app never imports torch to see whether it is there)."""

    def __init__(self, index: Index, cache: DetectCache) -> None:
        self._recipes = {r.name: r for r in index.detected()}
        self._cache = cache
        self._found: dict[str, FactValue | None] = {}

    def __getitem__(self, name: str) -> FactValue:
        if name not in self._found:
            recipe = self._recipes.get(name)
            found = detect(recipe, self._cache) if recipe is not None else None
            self._found[name] = FactValue(found.version, found.path) if found else None
            self._cache.save()
        value = self._found[name]
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return iter([n for n in self._recipes if n in self])

    def __len__(self) -> int:
        return sum(1 for _ in self)
