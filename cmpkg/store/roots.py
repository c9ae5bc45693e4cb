"""GC roots: which store entries a named environment (or project) uses.

Owns the files `roots/<name>.json` = `{"name", "keys", "broken"}`. `keys` are every entry the
root needs (dependencies included); `broken` are those of them that `cmpkg cache rm --force`
deleted, so `cmpkg env list` and `cmpkg run` can say why the environment no longer works. A
root is replaced whole (atomically) by the next install of its environment.

Must not: delete entries (the store does, and asks `users` first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cmpkg import atomic
from cmpkg.errors import UsageError
from cmpkg.store.keys import check_key

_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")
ENV_PREFIX = "env-"  # the root of environment NAME is `env-NAME`


@dataclass(frozen=True, slots=True)
class Root:
    name: str
    keys: tuple[str, ...]
    broken: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """How a user knows it: `environment NAME` for environments."""
        if self.name.startswith(ENV_PREFIX):
            return f"environment {self.name[len(ENV_PREFIX) :]}"
        return f"root {self.name}"


def env_root(env: str) -> str:
    return ENV_PREFIX + env


def env_of(root: str) -> str | None:
    return root[len(ENV_PREFIX) :] if root.startswith(ENV_PREFIX) else None


def path_of(directory: Path, name: str) -> Path:
    if not _NAME.match(name):
        raise UsageError("bad-root-name", f"{name!r} is not a valid root name")
    return directory / f"{name}.json"


def save(directory: Path, root: Root) -> Path:
    path = path_of(directory, root.name)
    data = {
        "name": root.name,
        "keys": sorted({check_key(k) for k in root.keys}),
        "broken": sorted(set(root.broken)),
    }
    atomic.write_text(path, json.dumps(data, sort_keys=True, indent=2) + "\n", durable=True)
    return path


def load_all(directory: Path) -> dict[str, Root]:
    if not directory.is_dir():
        return {}
    found: dict[str, Root] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            data = json.loads(path.read_text("utf-8"))
        except (OSError, ValueError):
            continue  # half-written roots cannot exist (atomic writes); foreign files skip
        keys = tuple(str(k) for k in data.get("keys", ()))
        found[path.stem] = Root(path.stem, keys, tuple(str(k) for k in data.get("broken", ())))
    return found


def users(directory: Path, key: str) -> list[Root]:
    """The roots that need `key`, by name."""
    return [r for r in load_all(directory).values() if key in r.keys]


def mark_broken(directory: Path, key: str, among: Iterable[Root]) -> None:
    for root in among:
        save(directory, Root(root.name, root.keys, (*root.broken, key)))
