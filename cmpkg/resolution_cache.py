"""A memo of resolutions, so that installing what is already installed does not solve again.

`resolve(task)` is a pure function of its `ResolveTask`: the index (its revision hashes every
recipe), the target's facts, the detected tools (probed before resolving, so they are known
up front), the requests, the preference and the backend. The memo key hashes all of them, so
an entry is never stale: any change to an input is a different key. Failures are not
memoised. Entries are `cmpkg.resolution.resolution_json` documents (the one persisted form
of a resolution) in `$CMPKG_HOME/resolve-v3/`, and only ever a speed-up: a damaged one is
ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from cmpkg import __version__, atomic
from cmpkg.resolution import pins_from_json, resolution_json
from cmpkg.resolve import Resolution, ResolveTask, resolve

DIRECTORY = "resolve-v3"  # v3: entries are `resolution_json` documents


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
    return resolution_json("", resolution)


def _load(path: Path, task: ResolveTask) -> Resolution | None:
    try:
        entry = json.loads(path.read_text())
        pins = pins_from_json(task.index, entry["packages"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, StopIteration):
        return None  # absent, damaged or from another index: solve again
    roots = tuple(entry["roots"])
    return Resolution(pins, task.requests, roots, dict(task.facts), {}, entry["backend"])
