"""Reading `cmpkg.lock`: parsed TOML to a `Lock`, every problem reported as `file: key: message`.

`parse` is pure; `read_lock` is the one place a lock file is read from disk.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmpkg.errors import InputError, UsageError
from cmpkg.index.fields import Fields, Problems
from cmpkg.index.load import read_toml
from cmpkg.lock.model import (
    LOCK_VERSION,
    Lock,
    LockedPackage,
    LockedSource,
    LockedTarget,
    LockedWheel,
    WheelSource,
)

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _digest(fields: Fields, name: str) -> str:
    """A required sha256 (or store key): 64 lowercase hex digits. A damaged one is named
    here, where it is, not later as a store key that differs for no visible reason."""
    value = fields.str(name, required=True)
    if value and not _HEX64.fullmatch(value):
        fields.error(name, f"expected 64 lowercase hex digits, got {value!r}")
    return value


def read_lock(path: Path) -> Lock:
    problems = Problems(path)
    if not path.exists():
        raise UsageError("no-lock", f"{path} does not exist", hint="write it with `cmpkg lock`")
    raw = read_toml(path, problems)
    lock = parse(raw, problems) if raw is not None else None
    if lock is None:
        raise InputError(problems.lines, hint="re-create it with `cmpkg lock`")
    return lock


def parse(raw: Mapping[str, Any], problems: Problems) -> Lock | None:
    """A lock from parsed TOML, or None after recording every problem."""
    top = Fields(dict(raw), "", problems)
    version = top.int("lock-version", required=True)
    if version is not None and version != LOCK_VERSION:
        top.error("lock-version", f"this cmpkg reads lock-version {LOCK_VERSION}, not {version}")
    cmpkg_version = top.str("cmpkg-version")
    manifest_hash = top.str("manifest-hash", required=True)
    index = top.sub("index", required=True)
    sources = top.sub("sources")
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
        sources=_read_sources(sources) if sources else WheelSource(),
    )
    index.finish()
    return None if problems.lines else lock


def _read_sources(s: Fields) -> WheelSource:
    default = s.bool("default-index", True)
    source = WheelSource(s.str_list("find-links"), s.str_list("indexes"), not default)
    s.finish()
    return source


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
        tool_wheels=_read_tool_wheels(t),
        system=dict(t.string_table("system")),
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
                _digest(s, "sha256"),
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
        key=_digest(p, "key"),
        recipe=p.str("recipe", required=True),
        needs=p.str_list("needs"),
        requires=p.str_list("requires"),
        sources=tuple(sources),
    )
    p.finish()
    return package


def _read_tool_wheels(t: Fields) -> dict[str, tuple[LockedWheel, ...]]:
    table = t.sub("tool-wheels")
    if table is None:
        return {}
    found = {
        name: tuple(_read_wheel(table, i, w, name) for i, w in enumerate(table.list(name)))
        for name in sorted(table.table)
    }
    table.finish()
    return found


def _read_wheel(t: Fields, i: int, item: Any, key: str = "wheels") -> LockedWheel:
    w = Fields(item if isinstance(item, dict) else {}, t.key(f"{key}[{i}]"), t.problems)
    wheel = LockedWheel(
        w.str("name", required=True),
        w.str("version", required=True),
        w.str("url", required=True),
        _digest(w, "sha256"),
    )
    w.finish()
    return wheel
