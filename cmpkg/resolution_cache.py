"""A memo of resolutions, so that installing what is already installed does not solve again.

`resolve()` is a pure function of the index (its revision hashes every recipe), the target's
facts, the tools it consulted, the requests, the preference and the backend. The memo key
hashes all of these but the tools, whose values are stored in the entry and compared on
use (the tools a resolution consults are known only after solving). An entry is therefore
never stale: any change to an input is a different key or a failed comparison. Failures are
not memoised. Entries live in `$CMPKG_HOME/resolve-v1/` and are only ever a speed-up:
a damaged one is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cmpkg import __version__, atomic
from cmpkg.index import Index
from cmpkg.index.model import Dependency, Recipe
from cmpkg.resolve import FactValue, Pin, Preference, Resolution, resolve

DIRECTORY = "resolve-v1"


def cached_resolve(
    home: Path,
    index: Index,
    facts: Mapping[str, FactValue],
    tools: Mapping[str, FactValue],
    requests: Sequence[Dependency],
    preference: Preference,
    backend: str,
) -> Resolution:
    """`resolve(...)`, answered from the memo when every input is unchanged."""
    key = _key(index, facts, requests, preference, backend)
    path = home / DIRECTORY / f"{key}.json"
    hit = _load(path, index, facts, tools, requests)
    if hit is not None:
        return hit
    recorder = _Recorder(tools)
    resolution = resolve(index, facts, recorder, requests, preference, backend)
    atomic.write_text(path, json.dumps(_entry(resolution, recorder.seen), sort_keys=True))
    return resolution


def _key(
    index: Index,
    facts: Mapping[str, FactValue],
    requests: Sequence[Dependency],
    preference: Preference,
    backend: str,
) -> str:
    inputs = {
        "cmpkg": __version__,
        "index": index.revision,
        "facts": {n: [f.version, f.source] for n, f in sorted(facts.items())},
        "requests": [[r.name, str(r.specifier), list(r.variants)] for r in requests],
        "pins": {n: [v, list(p)] for n, (v, p) in sorted(preference.pins.items())},
        "values": [list(preference.values), list(preference.require_values)],
        "backend": backend,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


class _Recorder(Mapping[str, FactValue]):
    """The tools mapping, remembering every look-up (found or not) the resolver made."""

    def __init__(self, tools: Mapping[str, FactValue]) -> None:
        self._tools = tools
        self.seen: dict[str, FactValue | None] = {}

    def __getitem__(self, name: str) -> FactValue:
        value = self._tools.get(name)
        self.seen[name] = value
        if value is None:
            raise KeyError(name)
        return value

    def __iter__(self) -> Any:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)


def _entry(resolution: Resolution, seen: Mapping[str, FactValue | None]) -> dict[str, Any]:
    return {
        "tools": {n: [t.version, t.source] if t else None for n, t in seen.items()},
        "roots": list(resolution.roots),
        "backend": resolution.backend,
        "pins": {
            name: {
                "version": pin.version,
                "variant": [list(p) for p in pin.variant],
                "needs": list(pin.needs),
                "facts": list(pin.facts),
                "requires": list(pin.fact_requirements),
                "digest": pin.recipe.digest,
            }
            for name, pin in resolution.pins.items()
        },
    }


def _load(
    path: Path,
    index: Index,
    facts: Mapping[str, FactValue],
    tools: Mapping[str, FactValue],
    requests: Sequence[Dependency],
) -> Resolution | None:
    try:
        entry = json.loads(path.read_text())
        for name, value in entry["tools"].items():
            now = tools.get(name)
            if (now and [now.version, now.source]) != (value or None):
                return None
        pins = {name: _pin(index, name, data) for name, data in entry["pins"].items()}
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None  # absent, damaged or from another index: solve again
    return Resolution(
        pins, tuple(requests), tuple(entry["roots"]), dict(facts), {}, entry["backend"]
    )


def _pin(index: Index, name: str, data: Mapping[str, Any]) -> Pin:
    recipe: Recipe = next(
        r for r in index.get(name) if r.digest == data["digest"]
    )  # StopIteration: the recipe is gone, the entry is useless
    return Pin(
        recipe,
        data["version"],
        tuple((g, v) for g, v in data["variant"]),
        tuple(data["needs"]),
        tuple(data["facts"]),
        tuple(data["requires"]),
    )
