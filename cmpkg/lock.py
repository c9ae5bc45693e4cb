"""The lockfile `cmpkg.lock`: its values, its rendering and its reading (pure, no I/O).

Design goals (docs/lockfile.md): complete (every package of every target with version,
variant, kind, store key, sources with sha256 and size, and every Python distribution with
its URL and sha256), readable TOML, deterministic (sorted keys and a fixed layout: re-locking
unchanged input is byte-identical, and one changed package changes only its own lines), and
statically checkable (`stale_reasons` compares a lock with the manifest and the index without
solving or touching the network).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmpkg import __version__
from cmpkg.index import Index
from cmpkg.index.fields import Fields, Problems
from cmpkg.index.model import Pairs

LOCK_VERSION = 1


@dataclass(frozen=True)
class LockedSource:
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    variant: Pairs
    kind: str
    method: str  # how it is provided: detect (found on the machine), python, download, ...
    key: str
    recipe: str  # the recipe's digest
    needs: tuple[str, ...]
    requires: tuple[str, ...]  # hardware requirements: `__cuda >=12.0`
    sources: tuple[LockedSource, ...] = ()


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    url: str
    sha256: str


@dataclass(frozen=True)
class LockedTarget:
    name: str
    python: str
    platform: tuple[str, ...]
    facts: Mapping[str, tuple[str, str]]  # name -> (version, source)
    roots: tuple[str, ...]
    packages: Mapping[str, LockedPackage]
    wheels: tuple[LockedWheel, ...]
    environment_key: str | None


@dataclass(frozen=True)
class Lock:
    manifest_hash: str
    index_revision: str
    index_sources: tuple[str, ...]
    recipes: Mapping[str, str]  # "name version" -> digest of every recipe used
    targets: Mapping[str, LockedTarget]
    cmpkg_version: str = __version__
    lock_version: int = LOCK_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)


# --- rendering ------------------------------------------------------------------------------


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
        "targets": {name: _target(t) for name, t in sorted(lock.targets.items())},
    }
    header = "# cmpkg.lock: written by `cmpkg lock`; commit it, do not edit it by hand.\n"
    return header + tomli_w.dumps(document, multiline_strings=False)


def _target(t: LockedTarget) -> dict[str, Any]:
    table: dict[str, Any] = {
        "python": t.python,
        "platform": list(t.platform),
        "roots": list(t.roots),
        "facts": {k: {"version": v, "source": s} for k, (v, s) in sorted(t.facts.items())},
        "packages": {n: _package(p) for n, p in sorted(t.packages.items())},
    }
    if t.environment_key:
        table["environment-key"] = t.environment_key
    table["wheels"] = [
        {"name": w.name, "version": w.version, "url": w.url, "sha256": w.sha256}
        for w in sorted(t.wheels, key=lambda w: w.name.lower())
    ]
    return table


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


# --- reading ----------------------------------------------------------------------------------


def parse(raw: Mapping[str, Any], problems: Problems) -> Lock | None:
    """A lock from parsed TOML, or None after recording every problem."""
    top = Fields(dict(raw), "", problems)
    version = top.int("lock-version", required=True)
    if version is not None and version != LOCK_VERSION:
        top.error("lock-version", f"this cmpkg reads lock-version {LOCK_VERSION}, not {version}")
    cmpkg_version = top.str("cmpkg-version")
    manifest_hash = top.str("manifest-hash", required=True)
    index = top.sub("index", required=True)
    targets_table = top.sub("targets", required=True)
    top.finish()
    if index is None or targets_table is None or problems.lines:
        return None
    lock = Lock(
        manifest_hash=manifest_hash,
        index_revision=index.str("revision", required=True),
        index_sources=index.str_list("sources"),
        recipes=dict(index.string_table("recipes")),
        targets={n: _read_target(targets_table, n) for n in sorted(targets_table.table)},
        cmpkg_version=cmpkg_version,
    )
    index.finish()
    return None if problems.lines else lock


def _read_target(parent: Fields, name: str) -> LockedTarget:
    t = parent.sub(name, required=True)
    assert t is not None
    facts_table = t.sub("facts")
    facts = {}
    for fact in sorted(facts_table.table if facts_table else {}):
        f = facts_table.sub(fact) if facts_table else None
        if f is not None:
            facts[fact] = (f.str("version", required=True), f.str("source"))
            f.finish()
    packages = t.sub("packages")
    target = LockedTarget(
        name=name,
        python=t.str("python", required=True),
        platform=t.str_list("platform"),
        facts=facts,
        roots=t.str_list("roots"),
        packages={n: _read_package(packages, n) for n in sorted(packages.table)}
        if packages
        else {},
        wheels=tuple(_read_wheel(t, i, w) for i, w in enumerate(t.list("wheels"))),
        environment_key=t.optional_str("environment-key"),
    )
    t.finish()
    return target


def _read_package(parent: Fields, name: str) -> LockedPackage:
    p = parent.sub(name, required=True)
    assert p is not None
    sources = []
    for i, item in enumerate(p.list("sources")):
        s = Fields(item if isinstance(item, dict) else {}, p.key(f"sources[{i}]"), p.problems)
        sources.append(
            LockedSource(
                s.str("filename"),
                s.str_list("urls"),
                s.str("sha256", required=True),
                s.int("size") or 0,
            )
        )
        s.finish()
    package = LockedPackage(
        name=name,
        version=p.str("version", required=True),
        variant=p.string_table("variant"),
        kind=p.str("kind"),
        method=p.str("method"),
        key=p.str("key", required=True),
        recipe=p.str("recipe", required=True),
        needs=p.str_list("needs"),
        requires=p.str_list("requires"),
        sources=tuple(sources),
    )
    p.finish()
    return package


def _read_wheel(t: Fields, i: int, item: Any) -> LockedWheel:
    w = Fields(item if isinstance(item, dict) else {}, t.key(f"wheels[{i}]"), t.problems)
    wheel = LockedWheel(
        w.str("name", required=True),
        w.str("version", required=True),
        w.str("url", required=True),
        w.str("sha256", required=True),
    )
    w.finish()
    return wheel


# --- checking ---------------------------------------------------------------------------------


def stale_reasons(
    lock: Lock, manifest_hash: str, targets: tuple[str, ...], index: Index
) -> list[str]:
    """Why the lock no longer matches the manifest and the index (empty: it is fresh)."""
    reasons = []
    if lock.manifest_hash != manifest_hash:
        reasons.append("cmpkg.toml changed since the lock was written (requests, targets or index)")
    missing = sorted(set(targets) - set(lock.targets))
    if missing:
        reasons.append(f"targets not in the lock: {', '.join(missing)}")
    current = {recipe_label(r.name, r.version): r.digest for r in index.all()}
    for label, digest in sorted(lock.recipes.items()):
        if label not in current:
            reasons.append(f"recipe {label} is no longer in the index")
        elif current[label] != digest:
            reasons.append(f"recipe {label} changed since the lock was written")
    return reasons


def recipe_label(name: str, version: object) -> str:
    """How the lock names a recipe in `[index.recipes]`: `name version` (tools: `name`)."""
    return f"{name} {version}" if version is not None else name


def wheel_requirements(target: LockedTarget) -> list[str]:
    """Exact pins with hashes for `pip install --require-hashes --no-deps`."""
    return [f"{w.name}=={w.version} --hash=sha256:{w.sha256}" for w in target.wheels]
