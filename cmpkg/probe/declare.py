"""Declared values: the keys a profile's `[facts]`, an inline `--target` tweak or an override
may set, how each is validated, and `declare()`, which puts them on a `Target`.

One table (`KEYS`) serves profiles, tweaks and overrides, so the three spell facts the same way
and validate them with the same messages. `declare()` also keeps the values that follow from a
declared one consistent: the microarch lineage, the wheel platform tags, the kernel version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from cmpkg.probe.model import Origin, Target
from cmpkg.probe.platform_tags import manylinux_tags, parse_manylinux_tag
from cmpkg.probe.system import microarch_lineage, parse_kernel_version

_VERSION = re.compile(r"[0-9]+(\.[0-9]+)*")
_CAPABILITY = re.compile(r"[0-9]+\.[0-9]+")
_NAME = re.compile(r"[a-z][a-z0-9_.\-]*")
_PYTHON = re.compile(r"3\.[0-9]+")

# key -> (kind, what a good value looks like). The key is also the Target field name.
KEYS: dict[str, tuple[str, str]] = {
    "os": ("name", "a lower-case name like linux"),
    "distro": ("name", "an os-release ID like ubuntu"),
    "distro_version": ("text", "an os-release VERSION_ID like 22.04"),
    "kernel": ("text", "a kernel release like 6.8.0-45-generic"),
    "arch": ("name", "an architecture like x86_64 or aarch64"),
    "microarch": ("name", "an archspec microarchitecture like zen3"),
    "glibc": ("version", "a version like 2.35"),
    "cpu_count": ("int", "a positive whole number"),
    "ram_mib": ("int", "a positive whole number of MiB"),
    "driver_version": ("version", "a driver version like 570.124.06"),
    "cuda": ("version", "a CUDA driver API version like 12.8"),
    "cuda_arch": ("capability", "a compute capability like 9.0"),
    "gpu_mem_mib": ("int", "a positive whole number of MiB"),
    "gpu_count": ("int", "a positive whole number"),
    "python": ("python", "a Python version like 3.12"),
    "platform": ("platform", "a PEP 600 tag like manylinux_2_35_x86_64"),
}
_PATTERNS = {
    "name": _NAME,
    "version": _VERSION,
    "capability": _CAPABILITY,
    "python": _PYTHON,
    "int": re.compile(r"[1-9][0-9]*"),
}


def coerce(key: str, raw: object) -> str | int:
    """A validated value for `key`; ValueError with a message fit for `file: key: message`."""
    if key not in KEYS:
        raise ValueError(f"unknown key (known: {', '.join(sorted(KEYS))})")
    kind, what = KEYS[key]
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise ValueError(f"expected {what}, got {type(raw).__name__}")
    text = str(raw).strip()
    pattern = _PATTERNS.get(kind)
    if (pattern and not pattern.fullmatch(text)) or not text:
        raise ValueError(f"expected {what}, got {raw!r}")
    if kind == "platform":
        try:
            parse_manylinux_tag(text)
        except ValueError:
            raise ValueError(f"expected {what}, got {raw!r}") from None
    if key == "microarch":
        _check_microarch(text)
    return int(text) if kind == "int" else text


def _check_microarch(name: str) -> None:
    try:
        microarch_lineage(name)
    except KeyError:
        raise ValueError(f"unknown microarchitecture {name!r} (archspec names)") from None
    except ImportError:
        return  # without archspec the name is taken on trust


def declare(target: Target, values: Mapping[str, str | int], source: str) -> Target:
    """`target` with `values` (already coerced) set, each recorded as declared by `source`."""
    changes: dict[str, Any] = {k: v for k, v in values.items() if k != "platform"}
    changes.update(_derived(target, values))
    origins = dict(target.origins)
    origins.update({key: Origin(source, probed=False) for key in changes})
    return target.with_origins(origins, **changes)


def _derived(target: Target, values: Mapping[str, str | int]) -> dict[str, Any]:
    """The fields that follow from declared ones."""
    derived: dict[str, Any] = {}
    if "kernel" in values:
        derived["kernel_version"] = parse_kernel_version(str(values["kernel"]))
    derived.update(_derived_cpu(target, values))
    glibc = values.get("glibc", target.glibc)
    arch = str(values.get("arch", target.arch))
    if "platform" in values:
        derived["platform_tags"] = manylinux_tags(*parse_manylinux_tag(str(values["platform"])))
    elif ("glibc" in values or arch != target.arch) and glibc is not None:
        derived["platform_tags"] = manylinux_tags(str(glibc), arch)
    return derived


def _derived_cpu(target: Target, values: Mapping[str, str | int]) -> dict[str, Any]:
    """Microarch lineage and flags; a new arch drops a microarch of another family.

    A declared microarch never changes the arch: a mismatch is reported by check_consistent.
    """
    if "microarch" in values:
        return {"microarch_lineage": _lineage(str(values["microarch"])), "cpu_flags": ()}
    if "arch" in values and values["arch"] != target.arch:
        arch = str(values["arch"])
        return {"microarch": arch, "microarch_lineage": _lineage(arch), "cpu_flags": ()}
    return {}


def _lineage(name: str) -> tuple[str, ...]:
    try:
        return microarch_lineage(name)
    except (KeyError, ImportError):
        return (name,)


def check_consistent(target: Target) -> list[str]:
    """Contradictions among declared values, as `key: message` lines."""
    family = target.microarch_lineage[-1:]
    if target.microarch and family and family != (target.arch,):
        return [f"microarch: {target.microarch} belongs to {family[0]}, not to arch {target.arch}"]
    return []
