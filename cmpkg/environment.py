"""Named environments: the variables an installed request exports, and their records on disk.

Owns the `${...}` substitutions of recipes (docs/recipes.md), the composition of exported
variables along the dependency order, the clean environment that recipe steps run in, and
the JSON record of each named environment under `$CMPKG_HOME/envs/` that `cmpkg run`,
`cmpkg env` and `cmpkg shell` read without loading the index or probing the machine.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError

if TYPE_CHECKING:  # `cmpkg run` reads records only: it must not pay for the index's imports
    from cmpkg.index.model import Pairs, Recipe

_VARIABLE = re.compile(r"\$\{([A-Za-z0-9_.\-]+)\}")
ENVS_DIR = "envs"
#: Search-path variables: `[paths]` entries are prepended, never replace.
PATH_LIKE = ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH")


def substitute(text: str, values: Mapping[str, str], where: str) -> str:
    """Replace `${entry}`, `${version}`, `${variant.G}`, `${env.VAR}`; unknown ones are errors."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise CmpkgError("bad-substitution", f"{where}: ${{{name}}} is not defined here")
        return values[name]

    return _VARIABLE.sub(one, text)


def substitutions(
    recipe: Recipe, entry: str, version: str, variant: Pairs, env: Mapping[str, str]
) -> dict[str, str]:
    values = {"entry": entry, "version": version}
    values.update({f"variant.{g}": v for g, v in variant})
    values.update({f"env.{k}": v for k, v in env.items() if not k.startswith("+")})
    return values


def exports(
    recipe: Recipe, values: Mapping[str, str], entry: str, variant: Pairs
) -> dict[str, str]:
    """The variables one package exports: its `[env]`, its variant values' env, its paths."""
    where = str(recipe.path)
    out = {k: substitute(v, values, where) for k, v in recipe.env}
    for group, value in variant:
        chosen = recipe.group(group).value(value)  # type: ignore[union-attr]
        out.update({k: substitute(v, values, where) for k, v in chosen.env})
    for var, dirs in recipe.paths:
        out[f"+{var}"] = os.pathsep.join(str(Path(entry) / d) for d in dirs)
    return out


def merge(base: Mapping[str, str], exported: Mapping[str, str]) -> dict[str, str]:
    """Add one package's exports; `+VAR` values are prepended to the search path VAR."""
    result = dict(base)
    for key, value in exported.items():
        if key.startswith("+"):
            var = key[1:]
            result[var] = value + (os.pathsep + result[var] if result.get(var) else "")
        else:
            result[key] = value
    return result


def combine(first: Mapping[str, str], second: Mapping[str, str]) -> dict[str, str]:
    """Two packages' exports as one, still as exports: `+VAR` search paths are joined
    (`second`'s first) rather than resolved, so they are prepended to whatever base the
    result is later merged onto (a step's clean PATH, or the user's)."""
    result = dict(first)
    for key, value in second.items():
        if key.startswith("+") and result.get(key):
            result[key] = value + os.pathsep + result[key]
        else:
            result[key] = value
    return result


def step_environment(exported: Mapping[str, str], scratch: Path) -> dict[str, str]:
    """The clean environment of a recipe step (docs/recipes.md): no inherited secrets.

    Only a fixed system PATH, a locale, HOME and TMPDIR inside a scratch dir, deterministic
    hashing and timestamps, plus the variables the step's dependencies export.
    """
    base = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": str(scratch),
        "TMPDIR": str(scratch),
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "SOURCE_DATE_EPOCH": "315532800",
    }
    return merge(base, exported)


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
    path = directory / f"{record.name}.json"
    atomic.write_text(path, json.dumps(asdict(record), indent=2, sort_keys=True) + "\n")
    return path


def load(home: Path, name: str) -> EnvRecord:
    path = envs_dir(home) / f"{name}.json"
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
    path = envs_dir(home) / f"{name}.json"
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
