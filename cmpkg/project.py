"""The project file `cmpkg.toml` (a `Project`): what a project asks for, and for which targets.

    [project]
    name = "resnet50-bench"
    requests = ["mlperf-resnet50[backend=onnxruntime]"]
    targets = ["cpu", "h200-cuda13"]
    index = ["recipes"]            # extra index dirs, relative to the manifest

Owns reading (every problem reported as `file: key: message`), writing (atomic, stable
formatting) and the manifest's content hash that the lockfile records to detect staleness.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import atomic
from cmpkg.errors import InputError, UsageError

if TYPE_CHECKING:
    from cmpkg.index import Index

MANIFEST = "cmpkg.toml"
LOCKFILE = "cmpkg.lock"
_HINT = "fix cmpkg.toml; its keys are in docs/lockfile.md (`cmpkg init` writes a valid one)"
#: Top-level tables other modules read (`[sweep]`: cmpkg.sweep.spec, `[submission]`:
#: cmpkg.submission.manifest, `[[cache]]` and `[trust]`: cmpkg.cache.settings); kept by `save`.
OTHER_TABLES = ("sweep", "submission", "cache", "trust")


class Project:
    """A project file's content (a frozen value). A slotted class, not a dataclass: `cmpkg
    run` imports this module (`results_root`) before the app starts, and importing
    `dataclasses` costs more than the rest of that path."""

    __slots__ = ("index", "name", "path", "requests", "targets")
    path: Path
    name: str
    requests: tuple[str, ...]
    targets: tuple[str, ...]
    index: tuple[str, ...]

    def __init__(
        self,
        path: Path,
        name: str,
        requests: tuple[str, ...],
        targets: tuple[str, ...],
        index: tuple[str, ...],
    ) -> None:
        set_ = object.__setattr__  # frozen: __setattr__ refuses
        set_(self, "path", path)
        set_(self, "name", name)
        set_(self, "requests", requests)
        set_(self, "targets", targets)
        set_(self, "index", index)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Project is frozen: cannot set {name}")

    def _fields(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__slots__)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Project) and self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return f"Project(path={self.path!r}, name={self.name!r}, requests={self.requests!r})"

    def replace(self, **changes: Any) -> Project:
        """A copy with `changes` (as `dataclasses.replace`)."""
        values = {f: getattr(self, f) for f in self.__slots__} | changes
        return Project(**values)

    @property
    def root(self) -> Path:
        return self.path.parent

    def index_dirs(self) -> list[Path]:
        return [self.root / d for d in self.index]

    def content_hash(self) -> str:
        """What a lock depends on: requests, targets and index sources (not the name)."""
        data = {
            "requests": list(self.requests),
            "targets": list(self.targets),
            "index": list(self.index),
        }
        import hashlib  # here: loading OpenSSL costs `cmpkg run` (results_root) a few ms

        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def find(start: Path) -> Path | None:
    """The nearest `cmpkg.toml` at or above `start`."""
    for directory in (start, *start.parents):
        if (directory / MANIFEST).is_file():
            return directory / MANIFEST
    return None


RESULTS = "results"


def results_root(start: Path, home: Path) -> Path:
    """Where an app run from `start` writes results: the project's `results/` when `start`
    is inside a project, else `<CMPKG_HOME>/results`; never the current directory, which
    may be cmpkg's own source checkout."""
    found = find(start)
    return (found.parent if found else home) / RESULTS


def ignore_results(root: Path) -> None:
    """List `results/` in the project's .gitignore (created if missing, kept otherwise):
    run logs are outputs, not sources."""
    path = root / ".gitignore"
    text = path.read_text() if path.exists() else ""
    if f"{RESULTS}/" in text.splitlines():
        return
    sep = "" if not text or text.endswith("\n") else "\n"
    path.write_text(f"{text}{sep}{RESULTS}/\n")


def require(start: Path) -> Project:
    path = find(start)
    if path is None:
        raise UsageError(
            "no-manifest", f"no {MANIFEST} here or above", hint="create one with `cmpkg init`"
        )
    return load(path)


def load(path: Path) -> Project:
    # Here, not at the top: `cmpkg run` needs only `find` (results_root), not TOML parsing.
    from cmpkg.index.fields import Fields, Problems
    from cmpkg.index.load import read_toml

    problems = Problems(path)
    raw = read_toml(path, problems)
    if raw is None:
        raise InputError(problems.lines, hint=_HINT)
    top = Fields(raw, "", problems)
    project = top.sub("project", required=True)
    top.finish(lambda key: key in OTHER_TABLES)
    if project is None:
        raise InputError(problems.lines, hint=_HINT)
    manifest = Project(
        path=path,
        name=project.str("name", path.parent.name),
        requests=project.str_list("requests"),
        targets=project.str_list("targets") or ("host",),
        index=project.str_list("index"),
    )
    project.finish()
    if problems.lines:
        raise InputError(problems.lines, hint=_HINT)
    return manifest


def render(manifest: Project) -> str:
    def array(items: tuple[str, ...]) -> str:
        return "[" + ", ".join(json.dumps(i) for i in items) + "]"

    lines = [
        "[project]",
        f"name = {json.dumps(manifest.name)}",
        f"requests = {array(manifest.requests)}",
        f"targets = {array(manifest.targets)}",
    ]
    if manifest.index:
        lines.append(f"index = {array(manifest.index)}")
    return "\n".join(lines) + "\n"


def save(manifest: Project) -> None:
    atomic.write_text(manifest.path, render(manifest) + _other_tables(manifest.path))


def _other_tables(path: Path) -> str:
    """The file's `OTHER_TABLES`, re-rendered, so `cmpkg add` never drops a `[sweep]`."""
    if not path.exists():
        return ""
    import tomli_w

    from cmpkg.index.fields import Problems
    from cmpkg.index.load import read_toml

    raw = read_toml(path, Problems(path)) or {}
    kept = {name: raw[name] for name in OTHER_TABLES if name in raw}
    return "\n" + tomli_w.dumps(kept) if kept else ""


def project_index(project: Project, extra: Sequence[Path] = ()) -> Index:
    """The index stack a project resolves against: shipped, the project's, then `extra`."""
    from cmpkg.index import load_active_index

    return load_active_index([*project.index_dirs(), *extra])
