"""The probe's source order, failures, overrides and system parsers, all without real hardware
(except `test_real_host_probe`, the one smoke test of this machine)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from packaging import tags
from packaging.version import Version

from cmpkg.errors import UsageError
from cmpkg.probe.host import probe_host
from cmpkg.probe.model import Gpu
from cmpkg.probe.nvidia import (
    GpuReading,
    GpuSource,
    parse_nvidia_smi_csv,
    read_nvidia_smi,
    read_nvml,
    read_proc_driver,
)
from cmpkg.probe.overrides import Overrides, parse_overrides
from cmpkg.probe.system import (
    parse_cpuinfo_flags,
    parse_glibc_version,
    parse_kernel_version,
    parse_meminfo,
    parse_os_release,
)
from tests.probe.helpers import (
    CPU_ONLY_SYSTEM,
    answering,
    capture,
    fake_proc,
    never_called,
    raising,
    system,
)

NO_OVERRIDES = Overrides()
H200_READING = GpuReading("nvml", "580.159.04", "13.0", (Gpu("NVIDIA H200", "9.0", 143771),))
TWO_GPUS = GpuReading(
    "nvidia-smi",
    "570.124.06",
    "12.8",
    (Gpu("NVIDIA H100 80GB HBM3", "9.0", 81559), Gpu("NVIDIA A100-SXM4-40GB", "8.0", 40960)),
)


def probe(sources: list[GpuSource], overrides: Overrides = NO_OVERRIDES, **kwargs: object):  # type: ignore[no-untyped-def]
    return probe_host(system=system(), gpu_sources=sources, overrides=overrides, **kwargs)  # type: ignore[arg-type]


def versions(target) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {name: fact.version for name, fact in target.facts().items()}


def test_h200_facts() -> None:
    facts = probe([answering("nvml", H200_READING)]).facts()
    assert facts["__cuda"].version == "13.0"
    assert facts["__cuda_arch"].version == "9.0"
    assert facts["__gpu_mem_mib"].version == "143771"
    assert facts["__gpu_count"].version == "1"
    assert facts["__cuda"].source == "nvml"
    assert facts["__glibc"].version == "2.39"
    assert "__arch=x86_64" in facts
    assert all(Version(f.version) for f in facts.values())  # every fact is PEP 440


def test_first_answer_wins_and_later_sources_are_skipped() -> None:
    target = probe([answering("nvml", H200_READING), never_called("nvidia-smi")])
    assert [(s.name, s.status) for s in target.sources] == [
        ("nvml", "answered"),
        ("nvidia-smi", "skipped"),
    ]


def test_unavailable_and_failed_sources_fall_through() -> None:
    garbage = GpuSource("nvidia-smi", lambda: parse_nvidia_smi_csv("Segmentation fault\n"))
    proc = GpuReading("/proc/driver/nvidia/version", "580.159.04", None, ())
    target = probe([answering("nvml", None), garbage, answering("/proc", proc)])
    statuses = {s.name: (s.status, s.detail) for s in target.sources}
    assert statuses["nvml"] == ("unavailable", "")
    assert statuses["nvidia-smi"][0] == "failed"
    assert "SourceError" in statuses["nvidia-smi"][1]
    assert target.driver_version == "580.159.04"
    assert "__cuda" not in target.facts()  # /proc knows the driver only


def test_every_source_failing_means_no_gpu_and_no_traceback() -> None:
    target = probe([raising("nvml", RuntimeError("NVML_ERROR_UNKNOWN")), raising("x", OSError())])
    assert [s.status for s in target.sources] == ["failed", "failed"]
    assert not {"__cuda", "__cuda_arch", "__gpu_count", "__gpu_mem_mib"} & set(target.facts())
    assert not target.satisfies("__cuda >= 12")


def test_two_different_gpus_lowest_capability_and_memory_win() -> None:
    target = probe([answering("nvidia-smi", TWO_GPUS)])
    assert versions(target)["__cuda_arch"] == "8.0"
    assert versions(target)["__gpu_mem_mib"] == "40960"
    assert versions(target)["__gpu_count"] == "2"
    assert [g.name for g in target.gpus] == ["NVIDIA H100 80GB HBM3", "NVIDIA A100-SXM4-40GB"]


def test_capability_order_is_numeric() -> None:
    gpus = (Gpu("new", "10.0", 1), Gpu("old", "9.0", 2))
    target = probe([answering("s", GpuReading("s", "1", "13.0", gpus))])
    assert target.cuda_arch == "9.0"


def test_driver_without_nvidia_smi_on_path_falls_back_to_proc(tmp_path: Path) -> None:
    root = fake_proc(
        tmp_path / "nvidia",
        capture("h200-cuda13", "proc-driver-version.txt"),
        [capture("h200-cuda13", "proc-driver-gpus.txt")],
    )
    sources = [
        GpuSource("nvml", partial(read_nvml, load=lambda: None)),
        GpuSource("nvidia-smi", partial(read_nvidia_smi, "no-such-nvidia-smi")),
        GpuSource("/proc", partial(read_proc_driver, root, cuda_version=lambda: "13.0")),
    ]
    target = probe(sources)
    assert [s.status for s in target.sources] == ["unavailable", "unavailable", "answered"]
    assert target.sources[1].detail == "no-such-nvidia-smi is not on PATH"
    assert target.driver_version == "580.159.04"
    assert target.facts()["__cuda"].source == "libcuda cuDriverGetVersion"
    assert target.facts()["__gpu_count"].version == "1"
    assert "__cuda_arch" not in target.facts()  # /proc does not tell the capability


def test_real_readers_on_garbage_nvidia_smi(fake_smi: Callable[..., str]) -> None:
    smi = fake_smi("\x00\xff garbage \n,,,\n")
    sources = [GpuSource("nvidia-smi", partial(read_nvidia_smi, smi, cuda_version=lambda: None))]
    target = probe(sources)
    assert target.sources[0].status == "failed"
    assert target.gpus == ()


def test_override_disables_cuda_without_reading_gpu_sources() -> None:
    target = probe([never_called("nvml")], overrides=parse_overrides({"CMPKG_OVERRIDE_CUDA": ""}))
    assert target.sources[0].status == "skipped"
    assert "__cuda" not in target.facts()
    assert "__gpu_count" not in target.facts()


def test_override_cuda_wins_over_sources() -> None:
    overrides = parse_overrides({"CMPKG_OVERRIDE_CUDA": "12.4", "CMPKG_OVERRIDE_CUDA_ARCH": "8.0"})
    target = probe([answering("nvml", H200_READING)], overrides=overrides)
    cuda = target.facts()["__cuda"]
    assert (cuda.version, cuda.source, cuda.probed) == (
        "12.4",
        "override CMPKG_OVERRIDE_CUDA",
        False,
    )
    assert target.facts()["__cuda_arch"].version == "8.0"
    assert target.facts()["__gpu_mem_mib"].source == "nvml"


def test_override_cuda_on_a_cpu_host() -> None:
    target = probe_host(
        system=system(CPU_ONLY_SYSTEM),
        gpu_sources=[answering("nvml", None)],
        overrides=parse_overrides({"CMPKG_OVERRIDE_CUDA": "12.4"}),
    )
    assert target.satisfies("__cuda >= 12.1")


def test_override_gpu_mem_glibc_and_platform_tags() -> None:
    overrides = parse_overrides(
        {"CMPKG_OVERRIDE_GPU_MEM_MIB": "40960", "CMPKG_OVERRIDE_GLIBC": "2.28"}
    )
    target = probe([answering("nvml", H200_READING)], overrides=overrides)
    assert versions(target)["__gpu_mem_mib"] == "40960"
    assert versions(target)["__glibc"] == "2.28"
    assert target.platform_tags[0] == "manylinux_2_28_x86_64"


def test_override_arch_replaces_a_foreign_microarch() -> None:
    target = probe([], overrides=parse_overrides({"CMPKG_OVERRIDE_ARCH": "aarch64"}))
    assert target.features()["arch"].value == "aarch64"
    assert target.microarch == "aarch64"
    assert "__microarch=icelake" not in target.facts()
    assert target.platform_tags[0] == "manylinux_2_39_aarch64"


def test_override_microarch() -> None:
    target = probe([], overrides=parse_overrides({"CMPKG_OVERRIDE_MICROARCH": "zen3"}))
    assert target.satisfies("__microarch == zen3")
    assert target.satisfies("__microarch == x86_64_v3")
    assert target.facts()["__microarch=zen3"].source == "override CMPKG_OVERRIDE_MICROARCH"


@pytest.mark.parametrize(
    "env",
    [
        {"CMPKG_OVERRIDE_MICROARCH": "pentium9000"},
        {"CMPKG_OVERRIDE_ARCH": "x86_64", "CMPKG_OVERRIDE_MICROARCH": "neoverse_v2"},
    ],
)
def test_bad_microarch_override_is_a_usage_error(env: dict[str, str]) -> None:
    with pytest.raises(UsageError) as error:
        probe([], overrides=parse_overrides(env))
    assert error.value.exit_code == 2


def test_bad_override_values_are_all_reported() -> None:
    with pytest.raises(UsageError) as error:
        parse_overrides({"CMPKG_OVERRIDE_CUDA": "twelve", "CMPKG_OVERRIDE_GPU_MEM_MIB": "80GB"})
    assert len(error.value.details) == 2
    assert error.value.code == "bad-override"


def test_cpu_target_ignores_gpus_and_gpu_overrides() -> None:
    overrides = parse_overrides({"CMPKG_OVERRIDE_CUDA": "12.4"})
    target = probe([never_called("nvml")], overrides=overrides, ignore_gpus=True, name="cpu")
    assert "__cuda" not in target.facts()
    assert target.sources[0].detail == "target ignores GPUs"


def test_os_release_and_glibc_from_captures() -> None:
    h200 = parse_os_release(capture("h200-cuda13", "os.txt"))
    assert (h200["ID"], h200["VERSION_ID"]) == ("ubuntu", "24.04")
    assert parse_os_release(capture("cpu-only", "os.txt"))["ID"] == "debian"
    assert parse_glibc_version(capture("h200-cuda13", "os.txt")) == "2.39"
    assert parse_glibc_version(capture("cpu-only", "os.txt")) == "2.36"
    assert parse_glibc_version("glibc 2.39") == "2.39"  # os.confstr's spelling
    assert parse_glibc_version("musl libc (x86_64)") is None


def test_kernel_meminfo_and_cpu_flags() -> None:
    assert parse_kernel_version("6.18.44-fc-v657-gpu") == "6.18.44"
    assert parse_kernel_version("garbage") is None
    assert parse_meminfo(capture("cpu-only", "meminfo.txt")) == 24684084 // 1024
    assert parse_meminfo("nonsense") is None
    for machine in ("h200-cuda13", "cpu-only"):
        flags = parse_cpuinfo_flags(capture(machine, "cpuinfo.txt"))
        assert {"avx2", "avx512f", "sse4_2"} <= set(flags)
    assert "amx_tile" in parse_cpuinfo_flags(capture("h200-cuda13", "cpuinfo.txt"))
    assert parse_cpuinfo_flags("Features\t: fp asimd sve2\n") == ("asimd", "fp", "sve2")


def test_real_host_probe(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one test that reads this machine: it must answer, quickly, without raising."""
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path))  # its microarch memo goes there
    start = time.perf_counter()
    target = probe_host(overrides=NO_OVERRIDES)
    elapsed = time.perf_counter() - start
    facts = target.facts()
    assert f"__arch={target.arch}" in facts
    assert f"__os={target.os}" in facts
    assert all(Version(f.version) for f in facts.values())
    assert target.python and target.platform_tags is None  # read only when a wheel is chosen
    assert target.wheel_tags() == tuple(tags.platform_tags())
    assert elapsed < 1.0
    if not any(s.status == "answered" for s in target.sources):
        assert "__cuda" not in facts
