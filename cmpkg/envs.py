"""Named environments: the record of each installed environment under `$CMPKG_HOME/envs/`.

`cmpkg run`, `cmpkg env` and `cmpkg shell` read these records without loading the index or
probing the machine. Composing the variables a record holds is `cmpkg.envvars`.

One environment may hold several apps (a project's requests share one Python environment,
as its lock does): each app's run command and variables are in the record's `apps`, and
`cmpkg run APP` finds the environment that holds APP (`for_run`).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.paths import check_part, safe_join

ENVS_DIR = "envs"
#: Search-path variables: `[paths]` entries are prepended, never replace.
PATH_LIKE = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH")


class EnvRecord:
    """What `cmpkg run NAME` needs, written by install: no index load, no probe at run time.

    A slotted class, not a dataclass: `cmpkg run` reads one before the app starts, and
    importing `dataclasses` (it pulls `inspect`) costs more than the rest of the read."""

    __slots__ = (
        "apps",
        "context",
        "keys",
        "name",
        "packages",
        "requests",
        "run",
        "runtime",
        "target",
        "variables",
    )

    def __init__(
        self,
        name: str,
        requests: list[str],
        target: str,
        packages: dict[str, dict[str, Any]],  # name -> {key, path, version, variant, kind}
        variables: dict[str, str],  # the composed exports (search paths already joined)
        run: list[str] | None = None,
        keys: list[str] | None = None,
        context: dict[str, Any] | None = None,  # facts, backend, lock: for result.json
        runtime: list[str] | None = None,
        apps: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self.requests = requests
        self.target = target
        self.packages = packages
        self.variables = variables
        self.run = [] if run is None else run
        self.keys = [] if keys is None else keys
        self.context = {} if context is None else context
        #: The entries running it reads (`Plan.runtime_keys`): what `cmpkg run` checks
        #: before the app starts. None in a record older than the field: every key.
        self.runtime = runtime
        #: app name -> {"run": argv, "variables": the app's own exports}: every requested
        #: app with a run command (`run` and `variables` above are the whole environment's,
        #: and `run` its first app's). Empty in records written before environments held
        #: several.
        self.apps = {} if apps is None else apps

    def app_names(self) -> list[str]:
        if self.apps:
            return sorted(self.apps)
        return [self.name] if self.run else []

    def replace(self, **changes: Any) -> EnvRecord:
        """A copy with `changes` (as `dataclasses.replace`)."""
        return EnvRecord(**(self.to_json() | changes))

    def runtime_keys(self) -> list[str]:
        return list(dict.fromkeys(self.keys)) if self.runtime is None else self.runtime

    def to_json(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EnvRecord) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]  # mutable fields, as a dataclass's

    def __repr__(self) -> str:
        return f"EnvRecord({self.name!r}, target={self.target!r})"


def envs_dir(home: Path) -> Path:
    return home / ENVS_DIR


def save(home: Path, record: EnvRecord) -> Path:
    """Write the record atomically (a reader sees the old or the new one, never half)."""
    directory = envs_dir(home)
    directory.mkdir(parents=True, exist_ok=True)
    path = record_path(home, record.name)
    atomic.write_text(path, json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n")
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
    """The environments' names (not the run contexts install keeps beside them)."""
    directory = envs_dir(home)
    if not directory.exists():
        return []
    return sorted(p.stem for p in directory.glob("*.json") if not p.stem.endswith(CONTEXT))


#: `envs/NAME.context.json`: an environment's run context, beside its record.
CONTEXT = ".context"
_SEPARATORS = r"[-_.]+"  # compiled by `re` on first use: most commands never compare


def for_run(home: Path, name: str, env: str | None = None) -> EnvRecord:
    """What `cmpkg run NAME` runs: the record with the `run` and `variables` of app NAME.

    The environment is `env` if given, else the one named NAME, else the only one that
    holds app NAME (a project's environment is named after its first request and holds
    them all). Reads one record when NAME is an environment's name, every record else."""
    if env is None and record_path(home, name).is_file():
        env = name
    if env is not None:
        record = load(home, env)
        if name == env and not _has_app(record, name):
            return _first_app(record)
        return _app_view(record, name)
    every = [load(home, n) for n in list_names(home)]
    holders = [r for r in every if _has_app(r, name)]
    if len(holders) == 1:
        return _app_view(holders[0], name)
    if holders:
        raise UsageError(
            "ambiguous-app",
            f"app {name!r} is in several environments: {_described(holders)}",
            hint=f"name one: `cmpkg run --env {holders[0].name} {name}`",
        )
    raise UsageError(
        "no-such-env",
        f"no environment named {name!r} or holding app {name!r} "
        f"(environments: {_described(every) or 'none yet'})",
        hint=f"run `cmpkg install {name}`, or add it to the requests of cmpkg.toml and run "
        "`cmpkg install`",
    )


def _described(records: list[EnvRecord]) -> str:
    return "; ".join(f"{r.name} (apps: {', '.join(r.app_names()) or 'none'})" for r in records)


def _normal(name: str) -> str:
    # index.model.normalize_name's rule for package names: `cmpkg run` must not import the
    # recipe model (and packaging with it) to compare two names.
    return re.sub(_SEPARATORS, "-", name).lower()


def _has_app(record: EnvRecord, name: str) -> bool:
    return any(_normal(app) == _normal(name) for app in record.apps)


def _first_app(record: EnvRecord) -> EnvRecord:
    """An environment run by its own name: its first request's app (the one whose command
    is the record's `run`), or the record itself when it lists no apps."""
    first = [app for app, chosen in record.apps.items() if chosen["run"] == record.run]
    return _app_view(record, first[0]) if first else record


def _app_view(record: EnvRecord, name: str) -> EnvRecord:
    """The record as app `name` sees it: that app's run command and variables."""
    found = [app for app in record.apps if _normal(app) == _normal(name)]
    if not found:
        raise UsageError(
            "no-such-app",
            f"environment {record.name} holds no app {name!r} "
            f"(its apps: {', '.join(record.app_names()) or 'none'})",
            hint="`cmpkg env list` names every environment and its apps",
        )
    chosen = record.apps[found[0]]
    return record.replace(run=list(chosen["run"]), variables=dict(chosen["variables"]))


def remove(home: Path, name: str) -> None:
    path = record_path(home, name)
    if not path.exists():
        known = ", ".join(list_names(home)) or "none yet"
        raise UsageError(
            "no-such-env",
            f"no environment named {name!r} (installed: {known})",
            hint="`cmpkg env list` names every environment",
        )
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
