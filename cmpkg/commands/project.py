"""`cmpkg init | add | remove`: editing the project file `cmpkg.toml`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cmpkg.errors import UsageError
from cmpkg.index.model import normalize_name
from cmpkg.project import MANIFEST, Project, project_index, require, save
from cmpkg.resolve import parse_request


def init(directory: Path, name: str | None, targets: Sequence[str]) -> Project:
    """A new `cmpkg.toml` in `directory` (targets default to `cpu`)."""
    path = directory / MANIFEST
    if path.exists():
        raise UsageError("manifest-exists", f"{path} already exists")
    project = Project(path, name or directory.name, (), tuple(targets) or ("cpu",), ())
    save(project)
    return project


def add(start: Path, requests: Sequence[str]) -> Project:
    """Add requests, replacing any earlier request for the same package."""
    project = require(start)
    index = project_index(project)
    names = {parse_request(r, index).name for r in requests}  # validates every request
    kept = tuple(r for r in project.requests if parse_request(r, index).name not in names)
    changed = replace(project, requests=(*kept, *requests))
    save(changed)
    return changed


def remove(start: Path, names: Sequence[str]) -> Project:
    """Remove every request for the named packages; an error if none was requested."""
    project = require(start)
    index = project_index(project)
    wanted = {normalize_name(n) for n in names}
    kept = tuple(r for r in project.requests if parse_request(r, index).name not in wanted)
    if len(kept) == len(project.requests):
        raise UsageError(
            "not-requested", f"cmpkg.toml does not request {', '.join(sorted(wanted))}"
        )
    changed = replace(project, requests=kept)
    save(changed)
    return changed
