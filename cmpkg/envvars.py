"""Every `CMPKG_*` environment variable cmpkg reads, declared once with its meaning.

Other modules read variables only through `get()`, so `docs/cli.md` and `cmpkg help env`
can list them all from `VARIABLES` and nothing is read behind the user's back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Variable:
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
    )
}


def get(name: str) -> str | None:
    """The value of a declared variable, or None when unset."""
    if name not in VARIABLES:
        raise KeyError(f"undeclared environment variable {name}; declare it in cmpkg/envvars.py")
    return os.environ.get(name)
