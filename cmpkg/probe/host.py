"""Probing this machine into a `Target`: the one place that orders the sources.

Order (docs/targets.md): `CMPKG_OVERRIDE_*` variables first, then for the GPU block the first
source that answers of NVML, `nvidia-smi`, `/proc/driver/nvidia/version`, else "no NVIDIA GPU".
A source that is missing is logged "unavailable"; one that answers nonsense or raises is logged
"failed" with the reason and the next one is asked; a probe never raises because of hardware.
Everything the probe reads goes through injectable callables so tests never touch the machine.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from types import MappingProxyType

from cmpkg.errors import UsageError
from cmpkg.probe.declare import check_consistent, coerce, declare
from cmpkg.probe.model import Gpu, Origin, SourceStatus, Target
from cmpkg.probe.nvidia import DEFAULT_GPU_SOURCES, GpuReading, GpuSource, SourceUnavailable
from cmpkg.probe.overrides import Overrides, read_overrides
from cmpkg.probe.system import SYSTEM_SOURCES, SystemReading, parse_kernel_version, read_system


def probe_host(
    *,
    system: Callable[[], SystemReading] | None = None,
    gpu_sources: Sequence[GpuSource] = DEFAULT_GPU_SOURCES,
    overrides: Overrides | None = None,
    ignore_gpus: bool = False,
    name: str = "host",
    description: str = "this machine, as probed",
) -> Target:
    """This machine as a Target; `ignore_gpus` (the `cpu` target) skips every GPU source."""
    overrides = overrides if overrides is not None else read_overrides()
    reading = (system or _read_system_at_cache)()
    skip = "target ignores GPUs" if ignore_gpus else "CMPKG_OVERRIDE_CUDA is empty"
    if ignore_gpus or overrides.no_cuda:
        gpu, log = None, tuple(SourceStatus(s.name, "skipped", skip) for s in gpu_sources)
    else:
        gpu, log = probe_gpus(gpu_sources)
    target = _target(name, description, reading, gpu, log)
    return apply_overrides(target, overrides, gpus=not ignore_gpus)


def _read_system_at_cache() -> SystemReading:
    return read_system(cache_dir=cache_location())


def cache_location() -> Path:
    """Where cmpkg keeps its caches (`cmpkg.config.home`)."""
    from cmpkg.config import home

    return home()


def probe_gpus(sources: Sequence[GpuSource]) -> tuple[GpuReading | None, tuple[SourceStatus, ...]]:
    """The first answer among `sources`, and what every source did."""
    log: list[SourceStatus] = []
    for index, source in enumerate(sources):
        try:
            answer = source.read()
        except SourceUnavailable as why:
            log.append(SourceStatus(source.name, "unavailable", str(why)))
            continue
        except Exception as error:  # NVML and friends raise anything; never a traceback
            log.append(SourceStatus(source.name, "failed", f"{type(error).__name__}: {error}"))
            continue
        if answer is None:
            log.append(SourceStatus(source.name, "unavailable"))
            continue
        log.append(SourceStatus(source.name, "answered", _summary(answer)))
        log += [
            SourceStatus(s.name, "skipped", "an earlier source answered")
            for s in sources[index + 1 :]
        ]
        return answer, tuple(log)
    return None, tuple(log)


def _summary(reading: GpuReading) -> str:
    names = ", ".join(g.name for g in reading.gpus) or "no GPUs listed"
    return f"driver {reading.driver_version}, CUDA {reading.cuda}: {names}"


def _target(
    name: str,
    description: str,
    system: SystemReading,
    gpu: GpuReading | None,
    log: tuple[SourceStatus, ...],
) -> Target:
    kernel_version = parse_kernel_version(system.kernel) if system.kernel else None
    gpus = gpu.gpus if gpu else ()
    return Target(
        name=name,
        description=description,
        os=system.os,
        arch=system.arch,
        python=system.python,
        platform_tags=system.platform_tags,
        distro=system.distro,
        distro_version=system.distro_version,
        kernel=system.kernel,
        kernel_version=kernel_version,
        microarch=system.microarch,
        microarch_lineage=system.microarch_lineage,
        cpu_flags=system.cpu_flags,
        glibc=system.glibc,
        cpu_count=system.cpu_count,
        ram_mib=system.ram_mib,
        disk_free_mib=system.disk_free_mib,
        driver_version=gpu.driver_version if gpu else None,
        cuda=gpu.cuda if gpu else None,
        cuda_arch=lowest_capability(gpus),
        gpu_mem_mib=min((g.memory_mib for g in gpus if g.memory_mib is not None), default=None),
        gpu_count=len(gpus) or None,
        gpus=gpus,
        origins=MappingProxyType(_origins(gpu)),
        sources=log,
    )


def lowest_capability(gpus: Sequence[Gpu]) -> str | None:
    """The lowest compute capability: code for it runs on every GPU of the machine."""
    known = [g.compute_capability for g in gpus if g.compute_capability]
    return min(known, key=lambda cc: tuple(int(p) for p in cc.split("."))) if known else None


def _origins(gpu: GpuReading | None) -> dict[str, Origin]:
    origins = {key: Origin(source, probed=True) for key, source in SYSTEM_SOURCES.items()}
    if gpu is not None:
        for key in ("driver_version", "cuda_arch", "gpu_mem_mib", "gpu_count", "gpus"):
            origins[key] = Origin(gpu.source, probed=True)
        origins["cuda"] = Origin(gpu.cuda_source or gpu.source, probed=True)
    return origins


def apply_overrides(target: Target, overrides: Overrides, *, gpus: bool = True) -> Target:
    """`target` with each set override declared on it (GPU ones only when `gpus`)."""
    names = ("glibc", "arch", "microarch") + (("cuda", "cuda_arch", "gpu_mem_mib") if gpus else ())
    values = {n: getattr(overrides, n) for n in names if getattr(overrides, n) is not None}
    if not values:
        return target
    problems = []
    for name in values:
        try:
            values[name] = coerce(name, values[name])
        except ValueError as error:
            problems.append(f"CMPKG_OVERRIDE_{name.upper()}: {error}")
    if not problems:
        target = declare(target, values, "override CMPKG_OVERRIDE_*")
        problems = check_consistent(target)
    if problems:
        raise UsageError("bad-override", "invalid CMPKG_OVERRIDE_* value", details=problems)
    origins = {**target.origins, **{n: Origin(overrides.source(n), False) for n in values}}
    return target.with_origins(origins)
