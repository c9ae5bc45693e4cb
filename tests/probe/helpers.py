"""Helpers for the probe tests: captured outputs, a fake host, fake GPU sources, fake NVML."""
# ruff: noqa: N802

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cmpkg.probe.nvidia import GpuReading, GpuSource
from cmpkg.probe.system import SystemReading

FIXTURES = Path(__file__).parent / "fixtures"


def capture(machine: str, name: str) -> str:
    """A captured output without its `$ command` first line and `[exit N]` last line."""
    lines = (FIXTURES / machine / name).read_text().splitlines(keepends=True)
    if lines and lines[0].startswith("$ "):
        lines = lines[1:]
    if lines and re.fullmatch(r"\[exit \d+\]\s*", lines[-1]):
        lines = lines[:-1]
    return "".join(lines)


# The h200-cuda13 machine's non-GPU facts, as its captures show them.
H200_SYSTEM = SystemReading(
    os="linux",
    arch="x86_64",
    python="3.12",
    platform_tags=("manylinux_2_39_x86_64",),
    kernel="6.18.44-fc-v657-gpu",
    distro="ubuntu",
    distro_version="24.04",
    glibc="2.39",
    cpu_count=16,
    ram_mib=128000,
    disk_free_mib=1000,
    microarch="icelake",
    microarch_lineage=("icelake", "cascadelake", "x86_64_v4", "x86_64_v3", "x86_64"),
    cpu_flags=("avx2", "avx512f"),
)
CPU_ONLY_SYSTEM = H200_SYSTEM._replace(
    distro="debian", distro_version="12", glibc="2.36", cpu_count=2
)


def system(reading: SystemReading = H200_SYSTEM) -> Callable[[], SystemReading]:
    return lambda: reading


def answering(name: str, reading: GpuReading | None) -> GpuSource:
    return GpuSource(name, lambda: reading)


def raising(name: str, error: Exception) -> GpuSource:
    def read() -> GpuReading:
        raise error

    return GpuSource(name, read)


def never_called(name: str) -> GpuSource:
    def read() -> GpuReading:
        raise AssertionError(f"{name} must not be read")

    return GpuSource(name, read)


def fake_proc(root: Path, version: str, gpu_infos: list[str]) -> Path:
    """A /proc/driver/nvidia tree: the version file and one information file per GPU."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "version").write_text(version)
    for index, info in enumerate(gpu_infos):
        gpu = root / "gpus" / f"0000:00:0{index}.0"
        gpu.mkdir(parents=True)
        (gpu / "information").write_text(info)
    return root


class FakeNvml:
    """Stands in for pynvml (camelCase like it): GPUs as (name, (major, minor), bytes)."""

    class NVMLError(Exception):
        pass

    def __init__(self, gpus: list[tuple[str, tuple[int, int], int]], fail_init: bool = False):
        self.gpus = gpus
        self.fail_init = fail_init
        self.shutdown = False

    def nvmlInit(self) -> None:
        if self.fail_init:
            raise self.NVMLError("NVML Shared Library Not Found")

    def nvmlShutdown(self) -> None:
        self.shutdown = True

    def nvmlSystemGetDriverVersion(self) -> bytes:
        return b"580.159.04"

    def nvmlSystemGetCudaDriverVersion_v2(self) -> int:
        return 13000

    def nvmlDeviceGetCount(self) -> int:
        return len(self.gpus)

    def nvmlDeviceGetHandleByIndex(self, index: int) -> int:
        return index

    def nvmlDeviceGetName(self, handle: int) -> str:
        return self.gpus[handle][0]

    def nvmlDeviceGetCudaComputeCapability(self, handle: int) -> tuple[int, int]:
        return self.gpus[handle][1]

    def nvmlDeviceGetMemoryInfo(self, handle: int) -> Any:
        class Memory:
            total = self.gpus[handle][2]

        return Memory()
