"""Named environments: the record of each installed environment under `$CMPKG_HOME/envs/`.

`cmpkg run`, `cmpkg env` and `cmpkg shell` read these records without loading the index or
probing the machine. Composing the variables a record holds is `cmpkg.envvars`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.paths import check_part, safe_join

ENVS_DIR = "envs"
#: Search-path variables: `[paths]` entries are prepended, never replace.
PATH_LIKE = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH")


@dataclass(frozen=True)
class EnvRecord:
    """What `cmpkg run NAME` needs, written by install: no index load, no probe at run time."""

    name: str
    requests: list[str]
    target: str
    packages: dict[str, dict[str, Any]]  # name -> {key, path, version, variant, kind}
    variables: dict[str, str]  # the composed exports (search paths already joined)
    run: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)  # facts, backend, lock: for result.json


def envs_dir(home: Path) -> Path:
    return home / ENVS_DIR


def save(home: Path, record: EnvRecord) -> Path:
    """Write the record atomically (a reader sees the old or the new one, never half)."""
    directory = envs_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    path = record_path(home, record.name)
    atomic.write_text(path, json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    return path


def record_path(home: Path, name: str, suffix: str = ".json") -> Path:
    """`envs/NAME.json` (or another suffix): the name comes from the command line or a
    lock's roots, so it goes through the one checked join."""
    where = "environment name"
    return safe_join(envs_dir(home), check_part(check_part(name, where) + suffix, where), where)


def load(home: Path, name: str) -> EnvRecord:
    path = record_path(home, name)
    try:
        data = json.loads(path.read_text())
        return EnvRecord(**data)
    except FileNotFoundError:
        known = ", ".join(list_names(home)) or "none yet"
        raise UsageError(
            "no-such-env",
            f"no environment named {name!r} (installed: {known})",
            hint=f"run `cmpkg install {name}` first",
        ) from None
    except (ValueError, TypeError) as error:
        raise CmpkgError(
            "bad-env-record", f"{path}: unreadable ({error})", hint="reinstall it"
        ) from None


def list_names(home: Path) -> list[str]:
    directory = envs_dir(home)
    return sorted(p.stem for p in directory.glob("*.json")) if directory.exists() else []


def remove(home: Path, name: str) -> None:
    path = record_path(home, name)
    if not path.exists():
        raise UsageError("no-such-env", f"no environment named {name!r}")
    path.unlink()


def run_environment(record: EnvRecord, base: Mapping[str, str]) -> dict[str, str]:
    """The user's environment with the record's variables on top (search paths prepended)."""
    result = dict(base)
    for key, value in record.variables.items():
        if key in PATH_LIKE and base.get(key):
            result[key] = value + os.pathsep + base[key]
        else:
            result[key] = value
    return result
