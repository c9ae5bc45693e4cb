"""`cmpkg init | add | remove`: editing the project file `cmpkg.toml`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import UsageError
from cmpkg.index.model import normalize_name
from cmpkg.index.query import check_versions
from cmpkg.project import MANIFEST, Project, ignore_results, project_index, require, save
from cmpkg.resolve import parse_request


def init(directory: Path, name: str | None, targets: Sequence[str]) -> Project:
    """A new `cmpkg.toml` in `directory` (targets default to `cpu`). Each target is checked
    as `cmpkg lock` will read it (a name, a profile file, tweaks): nothing is written for a
    bad one."""
    from cmpkg.probe import resolve_target

    path = directory / MANIFEST
    if path.exists():
        raise UsageError(
            "manifest-exists",
            f"{path} already exists",
            hint="edit it, or change its requests with `cmpkg add` / `cmpkg remove`",
        )
    for spec in targets:
        resolve_target(spec)
    project = Project(path, name or directory.name, (), tuple(targets) or ("cpu",), ())
    save(project)
    ignore_results(directory)
    return project


@dataclass(frozen=True)
class Change:
    """What `add` or `remove` did to `cmpkg.toml`: the requests it added, the (old, new)
    pairs where an added request replaced an earlier one for the same package, and the
    requests it removed."""

    project: Project
    added: tuple[str, ...] = ()
    replaced: tuple[tuple[str, str], ...] = ()
    removed: tuple[str, ...] = ()


def add(start: Path, requests: Sequence[str]) -> Change:
    """Add requests, replacing any earlier request for the same package. Every request is
    checked against the index first (name, variants, a version in range): nothing is
    written for a request no recipe can meet."""
    project = require(start)
    index = project_index(project)
    parsed = [parse_request(r, index) for r in requests]  # validates every request
    for dep in parsed:
        check_versions(str(dep.name), index.get(str(dep.name)), dep)
    new_by_name = {dep.name: text for dep, text in zip(parsed, requests, strict=True)}
    old = {r: parse_request(r, index).name for r in project.requests}
    replaced = tuple((r, new_by_name[n]) for r, n in old.items() if n in new_by_name)
    kept = tuple(r for r, n in old.items() if n not in new_by_name)
    changed = project.replace(requests=(*kept, *requests))
    save(changed)
    return Change(changed, added=tuple(requests), replaced=replaced)


def remove(start: Path, names: Sequence[str]) -> Change:
    """Remove every request for the named packages; an error if one was not requested."""
    project = require(start)
    index = project_index(project)
    wanted = {normalize_name(n) for n in names}
    requested = {r: parse_request(r, index).name for r in project.requests}
    missing = sorted(wanted - set(requested.values()))
    if missing:
        raise UsageError(
            "not-requested",
            f"cmpkg.toml does not request {', '.join(missing)}",
            hint=f"it requests: {', '.join(project.requests) or 'nothing yet'}",
        )
    removed = tuple(r for r, name in requested.items() if name in wanted)
    changed = project.replace(requests=tuple(r for r in project.requests if r not in removed))
    save(changed)
    return Change(changed, removed=removed)
