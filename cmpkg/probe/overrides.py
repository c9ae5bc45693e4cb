"""The `CMPKG_OVERRIDE_*` variables: facts the user states instead of letting the probe read them.

Like conda's `CONDA_OVERRIDE_CUDA`, an override wins over every probe source, and
`CMPKG_OVERRIDE_CUDA=""` means "this machine has no CUDA" (the GPU sources are then not even
consulted). `parse_overrides` is pure (it takes the variables as a mapping) and validates every
value, so a typo is an error (exit 2) rather than a silently wrong fact.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import NamedTuple

from cmpkg import envvars
from cmpkg.errors import UsageError

NAMES = (
    "CMPKG_OVERRIDE_CUDA",
    "CMPKG_OVERRIDE_CUDA_ARCH",
    "CMPKG_OVERRIDE_GLIBC",
    "CMPKG_OVERRIDE_ARCH",
    "CMPKG_OVERRIDE_MICROARCH",
    "CMPKG_OVERRIDE_GPU_MEM_MIB",
)
_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")
_CAPABILITY = re.compile(r"[0-9]+\.[0-9]+")
_NAME = re.compile(r"[a-z][a-z0-9_.]*")
_INT = re.compile(r"[0-9]+")


class Overrides(NamedTuple):
    """Validated override values; None = not overridden. `no_cuda`: CMPKG_OVERRIDE_CUDA=""."""

    cuda: str | None = None
    no_cuda: bool = False
    cuda_arch: str | None = None
    glibc: str | None = None
    arch: str | None = None
    microarch: str | None = None
    gpu_mem_mib: int | None = None

    def source(self, field_name: str) -> str:
        return f"override CMPKG_OVERRIDE_{field_name.upper()}"


def parse_overrides(env: Mapping[str, str]) -> Overrides:
    """Overrides from a name -> value mapping; UsageError listing every bad value."""
    problems: list[str] = []

    def take(suffix: str, pattern: re.Pattern[str], what: str) -> str | None:
        value = env.get(f"CMPKG_OVERRIDE_{suffix}")
        if value is None or (suffix == "CUDA" and value == ""):
            return None
        if not pattern.fullmatch(value.strip()):
            problems.append(f"CMPKG_OVERRIDE_{suffix}={value!r}: expected {what}")
            return None
        return value.strip()

    overrides = Overrides(
        cuda=take("CUDA", _VERSION, "a version like 12.4, or empty for no CUDA"),
        no_cuda=env.get("CMPKG_OVERRIDE_CUDA") == "",
        cuda_arch=take("CUDA_ARCH", _CAPABILITY, "a compute capability like 9.0"),
        glibc=take("GLIBC", _VERSION, "a version like 2.35"),
        arch=take("ARCH", _NAME, "an architecture name like x86_64"),
        microarch=take("MICROARCH", _NAME, "an archspec name like zen3"),
        gpu_mem_mib=_int(take("GPU_MEM_MIB", _INT, "a whole number of MiB")),
    )
    if problems:
        raise UsageError(
            "bad-override",
            "invalid CMPKG_OVERRIDE_* value",
            details=problems,
            hint="see docs/targets.md, or unset the variable",
        )
    return overrides


def _int(text: str | None) -> int | None:
    return int(text) if text is not None else None


def read_overrides() -> Overrides:
    """The overrides set in this process's environment (read through cmpkg.envvars)."""
    env = {name: value for name in NAMES if (value := envvars.get(name)) is not None}
    return parse_overrides(env)
