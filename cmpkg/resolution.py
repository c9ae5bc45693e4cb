"""A `Resolution` as JSON and back: the one persisted form of a resolution.

`cmpkg resolve --json`, every run context (`CMPKG_RUN_CONTEXT`, copied into results) and the
resolution memo all write `resolution_json`; the memo reads it back with `pins_from_json`,
which refuses a recipe whose digest changed (the memo entry is then useless, never wrong).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmpkg.index import Index
from cmpkg.resolve import Pin, Resolution


def resolution_json(target: str, resolution: Resolution) -> dict[str, Any]:
    """A resolution as plain JSON (every pin with its recipe digest and its edges)."""
    packages = {
        name: {
            "version": pin.version,
            "variant": dict(pin.variant),
            "kind": pin.recipe.kind,
            "recipe": pin.recipe.digest,
            "needs": list(pin.needs),
            "facts": {f: resolution.facts[f].version for f in pin.facts if f in resolution.facts},
            "requires": list(pin.fact_requirements),
        }
        for name, pin in sorted(resolution.pins.items())
    }
    return {
        "target": target,
        "backend": resolution.backend,
        "roots": list(resolution.roots),
        "packages": packages,
        "facts": {
            k: {"version": v.version, "source": v.source}
            for k, v in sorted(resolution.facts.items())
        },
    }


def pins_from_json(index: Index, packages: Mapping[str, Any]) -> dict[str, Pin]:
    """The pins of `resolution_json(...)["packages"]`, with their recipes from `index`.

    Raises StopIteration when a recipe with the recorded digest is gone, KeyError or
    TypeError on a damaged document.
    """
    return {name: _pin(index, name, data) for name, data in packages.items()}


def _pin(index: Index, name: str, data: Mapping[str, Any]) -> Pin:
    recipe = next(r for r in index.get(name) if r.digest == data["recipe"])
    return Pin(
        recipe,
        data["version"],
        tuple(data["variant"].items()),
        tuple(data["needs"]),
        tuple(data["facts"]),
        tuple(data["requires"]),
    )
