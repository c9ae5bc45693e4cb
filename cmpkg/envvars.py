"""Environment variables: the `CMPKG_*` ones cmpkg reads and sets, and the ones recipes export.

Every `CMPKG_*` variable is declared once here with its meaning; other modules read them only
through `get()`, so `docs/cli.md` and `cmpkg help env` can list them all from `VARIABLES` and
nothing is read behind the user's back. The second half owns the `${...}` substitutions of
recipes (docs/recipes.md), the composition of exported variables along the dependency order
and the clean environment that recipe steps run in.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from cmpkg.errors import CmpkgError

if TYPE_CHECKING:  # `cmpkg run` reads records only: it must not pay for the index's imports
    from cmpkg.index.model import Pairs, Recipe

#: Compiled by `re`'s cache on first use: every command imports this module, few substitute.
_VARIABLE = r"\$\{([A-Za-z0-9_.\-]+)\}"


class Variable(NamedTuple):  # not a dataclass: every command imports this module
    name: str
    meaning: str


VARIABLES: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable(
            "CMPKG_HOME",
            "Root of the store, caches and environments (default: the user cache dir).",
        ),
        Variable(
            "CMPKG_CONFIG",
            "Path of the user config file (default: the user config dir's cmpkg/config.toml).",
        ),
        Variable(
            "CMPKG_INDEX",
            "Extra index directories, os.pathsep-separated, stacked after the shipped index.",
        ),
        Variable(
            "CMPKG_MIRROR",
            "A mirror directory or URL to take index, artifacts and wheels from first.",
        ),
        Variable("CMPKG_OFFLINE", "If set to 1, no network access except to a loopback mirror."),
        Variable("CMPKG_NO_PROGRESS", "If set to 1, never draw progress bars."),
        Variable(
            "CMPKG_CACHE_TOKEN",
            "A bearer token for binary cache registries (else ~/.docker/config.json's auths); "
            "never written anywhere.",
        ),
        Variable(
            "CMPKG_OVERRIDE_CUDA",
            "CUDA driver API version to report as __cuda; empty means no CUDA.",
        ),
        Variable(
            "CMPKG_OVERRIDE_CUDA_ARCH", "Compute capability to report as __cuda_arch (e.g. 9.0)."
        ),
        Variable("CMPKG_OVERRIDE_GLIBC", "glibc version to report as __glibc."),
        Variable("CMPKG_OVERRIDE_ARCH", "CPU architecture to report as __arch (x86_64, aarch64)."),
        Variable(
            "CMPKG_OVERRIDE_MICROARCH", "archspec microarchitecture name to report as __microarch."
        ),
        Variable("CMPKG_OVERRIDE_GPU_MEM_MIB", "GPU memory in MiB to report as __gpu_mem_mib."),
        Variable(
            "CMPKG_SWEEP_CELL",
            "Set by a sweep cell for its `cmpkg run`: the cell.json that the run's record names "
            "(sweep, cell, lock); docs/sweeps.md.",
        ),
    )
}


#: Variables cmpkg *sets* for the apps it runs (recipes export their own, e.g. the
#: MLPerf harness's CMPKG_RESNET50_MODEL; those are documented with each recipe).
EXPORTED: dict[str, Variable] = {
    v.name: v
    for v in (
        Variable("CMPKG_ENV", "The name of the environment `cmpkg run` / `cmpkg shell` runs in."),
        Variable(
            "CMPKG_RUN_CONTEXT",
            "A JSON file with the resolution, target facts and store keys of the environment.",
        ),
        Variable(
            "CMPKG_RESULTS_DIR",
            "Where the app writes results: the project's results/, else $CMPKG_HOME/results.",
        ),
    )
}


def get(name: str) -> str | None:
    """The value of a declared variable, or None when unset."""
    if name not in VARIABLES:
        raise KeyError(f"undeclared environment variable {name}; declare it in cmpkg/envvars.py")
    return os.environ.get(name)


# --- exported variables ------------------------------------------------------------------


def substitute(text: str, values: Mapping[str, str], where: str) -> str:
    """Replace `${entry}`, `${version}`, `${variant.G}`, `${env.VAR}`; unknown ones are errors."""

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise CmpkgError("bad-substitution", f"{where}: ${{{name}}} is not defined here")
        return values[name]

    return re.sub(_VARIABLE, one, text)


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
