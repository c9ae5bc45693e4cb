"""The `Target` value: what cmpkg knows about the machine it resolves and installs for.

This module owns the frozen value types and the fact encoding (how a target becomes the virtual
packages the resolver sees). It does no I/O and imports nothing heavy: probing lives in
`cmpkg.probe.host`, profiles in `cmpkg.probe.profiles`.

Fact encoding (docs/targets.md): numeric facts are virtual packages whose version is the value
(`__cuda` 13.0, `__glibc` 2.39). Name-valued features (arch, os, distro, microarch) are one
presence package per value, `__arch=x86_64` at version "1", so `__arch == x86_64` is looked up
as the package `__arch=x86_64` and both kinds are "is this package present at a version that
matches". The microarchitecture also lists every older target its code can run on
(`__microarch=x86_64_v3` is present on an icelake host), as archspec orders them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NamedTuple

from cmpkg.errors import CmpkgError

PRESENT = "1"  # the version of a name-valued presence package such as `__arch=x86_64`

# NamedTuples rather than dataclasses: see cmpkg.index.model (the resolve path imports this).


class Gpu(NamedTuple):
    """One NVIDIA GPU as a source reported it."""

    name: str
    compute_capability: str | None  # "9.0"; None when the source cannot tell
    memory_mib: int | None


class Origin(NamedTuple):
    """Where one value of a target came from."""

    source: str  # "nvidia-smi", "archspec", "override CMPKG_OVERRIDE_CUDA", "profile h100-cuda12"
    probed: bool  # True: read from this machine; False: declared (override, profile, tweak)


class Fact(NamedTuple):
    """A virtual package: a PEP 440 version and the source that established it."""

    version: str
    source: str
    probed: bool = True


class Feature(NamedTuple):
    """A name-valued fact (arch=x86_64): encoded as the presence package `__arch=x86_64`."""

    value: str
    source: str
    probed: bool = True


class SourceStatus(NamedTuple):
    """What one probe source did: answered, failed (with why), unavailable or skipped."""

    name: str
    status: str
    detail: str = ""


# Target field -> fact name, for the facts whose value is a version.
VERSION_FACTS = {
    "cuda": "__cuda",
    "cuda_arch": "__cuda_arch",
    "gpu_mem_mib": "__gpu_mem_mib",
    "gpu_count": "__gpu_count",
    "glibc": "__glibc",
    "kernel_version": "__linux",
    "cpu_count": "__cpu_count",
    "ram_mib": "__ram_mib",
}
# Target field -> feature name, for the name-valued facts.
NAME_FEATURES = {"os": "os", "arch": "arch", "distro": "distro", "microarch": "microarch"}
_NO_ORIGINS: Mapping[str, Origin] = MappingProxyType({})


class Target(NamedTuple):
    """A machine to resolve for: the probed host, or a declared profile.

    Every value that becomes a fact has an `Origin` in `origins` (keyed by field name).
    `gpus` is what the GPU source listed; `cuda_arch`, `gpu_mem_mib` and `gpu_count` are the
    facts (the lowest capability and the smallest memory among them, unless declared).
    """

    name: str
    os: str
    arch: str
    python: str  # "3.12": the interpreter version Python environments are resolved for
    # Wheel platform tags, most preferred first; None: this interpreter's, read only when a
    # wheel is chosen (`wheel_tags()`): packaging.tags costs a resolve ~20 ms it does not use.
    platform_tags: tuple[str, ...] | None
    description: str = ""
    distro: str | None = None  # os-release ID ("ubuntu")
    distro_version: str | None = None  # os-release VERSION_ID ("24.04")
    kernel: str | None = None  # the full release ("6.18.44-fc-v657-gpu")
    kernel_version: str | None = None  # its PEP 440 part ("6.18.44")
    microarch: str | None = None  # archspec name
    microarch_lineage: tuple[str, ...] = ()  # microarch, then what it can run, newest first
    cpu_flags: tuple[str, ...] = ()
    glibc: str | None = None
    cpu_count: int | None = None
    ram_mib: int | None = None
    disk_free_mib: int | None = None  # free space at the cache location (not a fact: volatile)
    driver_version: str | None = None  # NVIDIA kernel driver ("580.159.04")
    cuda: str | None = None  # CUDA driver API version ("13.0")
    cuda_arch: str | None = None
    gpu_mem_mib: int | None = None
    gpu_count: int | None = None
    gpus: tuple[Gpu, ...] = ()
    requires_cuda: bool = False  # `--target cuda`: installing without CUDA is an error
    origins: Mapping[str, Origin] = _NO_ORIGINS  # read-only: built by `with_origins`
    sources: tuple[SourceStatus, ...] = ()

    def __hash__(self) -> int:
        """Every field but `origins` (a read-only mapping, as a dataclass's `hash=False`)."""
        return hash((*self[:_ORIGINS_AT], *self[_ORIGINS_AT + 1 :]))

    def with_origins(self, origins: Mapping[str, Origin], **changes: Any) -> Target:
        """A copy with `changes`, whose origins are a read-only copy of `origins`."""
        return self._replace(**changes, origins=MappingProxyType(dict(origins)))

    def wheel_tags(self) -> tuple[str, ...]:
        """The wheel platform tags: declared ones, else this interpreter's (`packaging.tags`)."""
        if self.platform_tags is not None:
            return self.platform_tags
        from cmpkg.probe.system import read_platform_tags

        return read_platform_tags()

    def origin(self, field_name: str) -> Origin:
        return self.origins.get(field_name, Origin("unknown", probed=False))

    def features(self) -> dict[str, Feature]:
        """The name-valued facts: arch, os, distro, microarch (those the target has)."""
        result = {}
        for field_name, feature in NAME_FEATURES.items():
            value = getattr(self, field_name)
            if value is not None:
                origin = self.origin(field_name)
                result[feature] = Feature(value, origin.source, origin.probed)
        return result

    def facts(self) -> dict[str, Fact]:
        """Every virtual package of this target, name -> Fact; absent facts are not there."""
        result = {}
        for field_name, fact_name in VERSION_FACTS.items():
            value = getattr(self, field_name)
            if value is not None:
                origin = self.origin(field_name)
                result[fact_name] = Fact(str(value), origin.source, origin.probed)
        for name, feature in self.features().items():
            result[f"__{name}={feature.value}"] = Fact(PRESENT, feature.source, feature.probed)
        origin = self.origin("microarch")
        for older in self.microarch_lineage[1:]:
            result[f"__microarch={older}"] = Fact(PRESENT, origin.source, origin.probed)
        return result

    def satisfies(self, requirement: str) -> bool:
        """Whether a requirement such as `__cuda >= 12.1` or `__arch == x86_64` holds here."""
        from packaging.specifiers import SpecifierSet

        name, specifier = fact_requirement(requirement)
        fact = self.facts().get(name)
        return fact is not None and SpecifierSet(specifier).contains(fact.version, True)

    def check_installable(self) -> None:
        """Raise if this target cannot be installed on: `--target cuda` on a host without CUDA."""
        if self.requires_cuda and self.cuda is None:
            raise CmpkgError(
                "cuda-required",
                f"target '{self.name}' requires CUDA, but this machine has no __cuda "
                "(no NVIDIA driver with CUDA was found)",
                details=[f"{s.name}: {s.status}: {s.detail}".rstrip(": ") for s in self.sources],
                hint="use --target=cpu for CPU variants, or check `cmpkg target show`",
            )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready description: facts, features, the probe log and the Python fields."""
        return {
            "name": self.name,
            "description": self.description,
            "facts": {k: _fact_json(f) for k, f in sorted(self.facts().items())},
            "features": {k: _feature_json(f) for k, f in sorted(self.features().items())},
            "python": self.python,
            "platform_tags": list(self.wheel_tags()),
            "requires_cuda": self.requires_cuda,
            "kernel": self.kernel,
            "distro_version": self.distro_version,
            "driver_version": self.driver_version,
            "disk_free_mib": self.disk_free_mib,
            "cpu_flags": list(self.cpu_flags),
            "gpus": [_gpu_json(g) for g in self.gpus],
            "sources": [
                {"name": s.name, "status": s.status, "detail": s.detail} for s in self.sources
            ],
        }


_ORIGINS_AT = Target._fields.index("origins")

_REQUIREMENT = re.compile(r"^\s*(__[a-z0-9_]+)\s*(.*?)\s*$")


def fact_requirement(requirement: str) -> tuple[str, str]:
    """Split a fact requirement into (virtual package name, PEP 440 specifier).

    `__cuda >= 12.1` -> ("__cuda", ">=12.1"); `__arch == x86_64` and `__arch=x86_64` ->
    ("__arch=x86_64", ""): a name-valued feature is the presence of its value's package.
    """
    match = _REQUIREMENT.match(requirement)
    if not match:
        raise ValueError(f"not a fact requirement: {requirement!r}")
    name, rest = match.groups()
    value = re.fullmatch(r"==?\s*([A-Za-z_][A-Za-z0-9_.\-]*)", rest)
    if name.removeprefix("__") in NAME_FEATURES.values() and value:
        return f"{name}={value.group(1)}", ""
    return name, rest.replace(" ", "")


def _fact_json(fact: Fact) -> dict[str, Any]:
    return {"version": fact.version, "source": fact.source, "probed": fact.probed}


def _feature_json(feature: Feature) -> dict[str, Any]:
    return {"value": feature.value, "source": feature.source, "probed": feature.probed}


def _gpu_json(gpu: Gpu) -> dict[str, Any]:
    return {
        "name": gpu.name,
        "compute_capability": gpu.compute_capability,
        "memory_mib": gpu.memory_mib,
    }
