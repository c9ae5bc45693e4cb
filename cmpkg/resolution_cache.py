"""A memo of resolutions, so that installing what is already installed does not solve again.

`resolve(task)` is a pure function of its `ResolveTask`: the index (its revision hashes every
recipe), the target's facts, the detected tools (probed before resolving, so they are known
up front), the requests, the preference and the backend. The memo key hashes all of them, so
an entry is never stale: any change to an input is a different key. Failures are not
memoised. Entries live in `$CMPKG_HOME/resolve-v2/` and are only ever a speed-up:
a damaged one is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmpkg import __version__, atomic
from cmpkg.index import Index
from cmpkg.index.model import Recipe
from cmpkg.resolve import Pin, Resolution, ResolveTask, resolve

DIRECTORY = "resolve-v2"  # v2: the key covers the tools (v1 compared them on use)


def cached_resolve(home: Path, task: ResolveTask) -> Resolution:
    """`resolve(task)`, answered from the memo when every input is unchanged."""
    path = home / DIRECTORY / f"{task_key(task)}.json"
    hit = _load(path, task)
    if hit is not None:
        return hit
    resolution = resolve(task)
    atomic.write_text(path, json.dumps(_entry(resolution), sort_keys=True))
    return resolution


def task_key(task: ResolveTask) -> str:
    """The hash of everything a resolution depends on (the index by its revision)."""
    preference = task.preference
    inputs = {
        "cmpkg": __version__,
        "index": task.index.revision,
        "facts": {n: [f.version, f.source] for n, f in sorted(task.facts.items())},
        "tools": {n: [t.version, t.source] for n, t in sorted(task.tools.items())},
        "requests": [[r.name, str(r.specifier), list(r.variants)] for r in task.requests],
        "pins": {n: [v, list(p)] for n, (v, p) in sorted(preference.pins.items())},
        "values": [list(preference.values), list(preference.require_values)],
        "backend": task.backend,
    }
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def _entry(resolution: Resolution) -> dict[str, Any]:
    return {
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


def _load(path: Path, task: ResolveTask) -> Resolution | None:
    try:
        entry = json.loads(path.read_text())
        pins = {name: _pin(task.index, name, data) for name, data in entry["pins"].items()}
    except (OSError, ValueError, KeyError, TypeError, StopIteration):
        return None  # absent, damaged or from another index: solve again
    roots = tuple(entry["roots"])
    return Resolution(pins, task.requests, roots, dict(task.facts), {}, entry["backend"])


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
