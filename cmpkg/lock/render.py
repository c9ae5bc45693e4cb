"""`cmpkg.lock` as TOML text (pure): a fixed order, so equal locks render to equal bytes and
one changed package changes only its own lines (docs/lockfile.md)."""

from __future__ import annotations

from typing import Any

from cmpkg.lock.model import Lock, LockedPackage, LockedTarget, LockedWheel, WheelSource


def render(lock: Lock) -> str:
    """The lock as TOML, in a fixed order; equal locks render to equal bytes."""
    import tomli_w

    document: dict[str, Any] = {
        "lock-version": lock.lock_version,
        "cmpkg-version": lock.cmpkg_version,
        "manifest-hash": lock.manifest_hash,
        "index": {
            "revision": lock.index_revision,
            "sources": list(lock.index_sources),
            "recipes": dict(sorted(lock.recipes.items())),
        },
        "sources": sources_table(lock.sources),
        "targets": {name: _target(t) for name, t in sorted(lock.targets.items())},
    }
    header = "# cmpkg.lock: written by `cmpkg lock`; commit it, do not edit it by hand.\n"
    return header + tomli_w.dumps(document, multiline_strings=False)


def sources_table(source: WheelSource) -> dict[str, Any]:
    """The `[sources]` table: where every wheel of the lock may come from."""
    return {
        "default-index": not source.no_index,
        "indexes": list(source.index_urls),
        "find-links": list(source.find_links),
    }


def _target(t: LockedTarget) -> dict[str, Any]:
    table: dict[str, Any] = {
        "python": t.python,
        "platform": list(t.platform),
        "system": dict(sorted(t.system.items())),
        "roots": list(t.roots),
        "facts": {k: {"version": v, "source": s} for k, (v, s) in sorted(t.facts.items())},
        "packages": {n: _package(p) for n, p in sorted(t.packages.items())},
    }
    if t.environment_key:
        table["environment-key"] = t.environment_key
    table["wheels"] = _wheels(t.wheels)
    if t.tool_wheels:
        table["tool-wheels"] = {n: _wheels(w) for n, w in sorted(t.tool_wheels.items())}
    return table


def _wheels(wheels: tuple[LockedWheel, ...]) -> list[dict[str, str]]:
    return [
        {"name": w.name, "version": w.version, "url": w.url, "sha256": w.sha256}
        for w in sorted(wheels, key=lambda w: w.name.lower())
    ]


def _package(p: LockedPackage) -> dict[str, Any]:
    table: dict[str, Any] = {
        "version": p.version,
        "kind": p.kind,
        "method": p.method,
        "key": p.key,
        "recipe": p.recipe,
    }
    if p.variant:
        table["variant"] = dict(p.variant)
    if p.needs:
        table["needs"] = list(p.needs)
    if p.requires:
        table["requires"] = list(p.requires)
    if p.sources:
        table["sources"] = [
            {"filename": s.filename, "urls": list(s.urls), "sha256": s.sha256, "size": s.size}
            for s in p.sources
        ]
    return table
