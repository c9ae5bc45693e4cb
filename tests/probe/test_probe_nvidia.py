"""The NVIDIA parsers on real captures, and each reader against fakes of its source."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from cmpkg.probe.model import Gpu
from cmpkg.probe.nvidia import (
    LIBCUDA_SOURCE,
    SourceError,
    SourceUnavailable,
    cuda_version_from_int,
    parse_nvidia_smi_banner,
    parse_nvidia_smi_csv,
    parse_proc_driver_version,
    parse_proc_gpu_information,
    read_libcuda_version,
    read_nvidia_smi,
    read_nvml,
    read_proc_driver,
)
from tests.probe.helpers import FakeNvml, capture, fake_proc

H200 = Gpu("NVIDIA H200", "9.0", 143771)
TWO_GPUS_CSV = (
    "name, driver_version, memory.total [MiB], compute_cap\n"
    "NVIDIA H100 80GB HBM3, 570.124.06, 81559 MiB, 9.0\n"
    "NVIDIA A100-SXM4-40GB, 570.124.06, 40960 MiB, 8.0\n"
)


def test_csv_query_of_the_h200() -> None:
    reading = parse_nvidia_smi_csv(capture("h200-cuda13", "nvidia-smi-query.csv"))
    assert reading.driver_version == "580.159.04"
    assert reading.gpus == (H200,)
    assert reading.cuda is None  # the CSV query cannot report it


def test_csv_with_two_different_gpus() -> None:
    reading = parse_nvidia_smi_csv(TWO_GPUS_CSV)
    assert [g.compute_capability for g in reading.gpus] == ["9.0", "8.0"]
    assert [g.memory_mib for g in reading.gpus] == [81559, 40960]


def test_csv_na_fields_are_unknown_not_errors() -> None:
    text = "name, driver_version, memory.total [MiB], compute_cap\nTesla K80, 470.1, [N/A], [N/A]\n"
    assert parse_nvidia_smi_csv(text).gpus == (Gpu("Tesla K80", None, None),)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Failed to initialize NVML: Driver/library version mismatch\n",
        "name, driver_version, memory.total [MiB], compute_cap\n",
        "name, driver_version, memory.total [MiB], compute_cap\nX, 1.0, lots, 9.0\n",
        "name, driver_version, memory.total [MiB], compute_cap\nX, 1.0, 5 MiB, nine\n",
        "name, driver_version, memory.total [MiB], compute_cap\nX, 1.0\n",
    ],
)
def test_csv_garbage_is_a_source_error(text: str) -> None:
    with pytest.raises(SourceError):
        parse_nvidia_smi_csv(text)


@pytest.mark.parametrize("name", ["nvidia-smi.txt", "nvidia-smi-version.txt"])
def test_banner_gives_driver_and_cuda(name: str) -> None:
    assert parse_nvidia_smi_banner(capture("h200-cuda13", name)) == ("580.159.04", "13.0")


def test_banner_garbage_gives_nothing() -> None:
    assert parse_nvidia_smi_banner("Segmentation fault") == (None, None)


def test_proc_driver_version() -> None:
    assert parse_proc_driver_version(capture("h200-cuda13", "proc-driver-version.txt")) == (
        "580.159.04"
    )
    with pytest.raises(SourceError):
        parse_proc_driver_version("\x00\x01 not a version file")


def test_proc_gpu_information() -> None:
    gpu = parse_proc_gpu_information(capture("h200-cuda13", "proc-driver-gpus.txt"))
    assert gpu == Gpu("NVIDIA H200", None, None)


@pytest.mark.parametrize(("value", "text"), [(13000, "13.0"), (12040, "12.4"), (11080, "11.8")])
def test_cuda_integer_encoding(value: int, text: str) -> None:
    assert cuda_version_from_int(value) == text


def test_cuda_integer_zero_is_an_error() -> None:
    with pytest.raises(SourceError):
        cuda_version_from_int(0)


def test_read_nvidia_smi_takes_cuda_from_libcuda(fake_smi: Callable[..., str]) -> None:
    smi = fake_smi(capture("h200-cuda13", "nvidia-smi-query.csv"))
    reading = read_nvidia_smi(smi, cuda_version=lambda: "13.0")
    assert reading is not None
    assert (reading.driver_version, reading.cuda, reading.cuda_source) == (
        "580.159.04",
        "13.0",
        LIBCUDA_SOURCE,
    )
    assert reading.gpus == (H200,)


def test_read_nvidia_smi_falls_back_to_the_banner(fake_smi: Callable[..., str]) -> None:
    smi = fake_smi(
        capture("h200-cuda13", "nvidia-smi-query.csv"), capture("h200-cuda13", "nvidia-smi.txt")
    )
    reading = read_nvidia_smi(smi, cuda_version=lambda: None)
    assert reading is not None
    assert (reading.cuda, reading.cuda_source) == ("13.0", "nvidia-smi")


def test_read_nvidia_smi_not_on_path() -> None:
    with pytest.raises(SourceUnavailable, match="not on PATH"):
        read_nvidia_smi("nvidia-smi-that-does-not-exist")


def test_read_nvidia_smi_failing_command(fake_smi: Callable[..., str]) -> None:
    smi = fake_smi("NVIDIA-SMI has failed because it couldn't communicate", exit_code=9)
    with pytest.raises(SourceError, match="exit 9"):
        read_nvidia_smi(smi, cuda_version=lambda: None)


def test_read_proc_driver(tmp_path: Path) -> None:
    root = fake_proc(
        tmp_path / "nvidia",
        capture("h200-cuda13", "proc-driver-version.txt"),
        [capture("h200-cuda13", "proc-driver-gpus.txt")],
    )
    reading = read_proc_driver(root, cuda_version=lambda: None)
    assert reading is not None
    assert reading.driver_version == "580.159.04"
    assert reading.cuda is None  # driver only, unless libcuda answers
    assert reading.gpus == (Gpu("NVIDIA H200", None, None),)


def test_read_proc_driver_absent(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="no NVIDIA kernel module"):
        read_proc_driver(tmp_path / "missing")


def test_read_nvml_with_a_fake_library() -> None:
    nvml = FakeNvml([("NVIDIA H200", (9, 0), 150754820096)])
    reading = read_nvml(load=lambda: nvml)
    assert reading is not None
    assert (reading.source, reading.driver_version, reading.cuda) == ("nvml", "580.159.04", "13.0")
    assert reading.gpus == (H200,)
    assert nvml.shutdown


def test_read_nvml_unavailable() -> None:
    with pytest.raises(SourceUnavailable, match="nvidia-ml-py is not installed"):
        read_nvml(load=lambda: None)
    with pytest.raises(SourceUnavailable, match="NVML: NVML Shared Library Not Found"):
        read_nvml(load=lambda: FakeNvml([], fail_init=True))


def test_read_libcuda_missing_library() -> None:
    assert read_libcuda_version("libcuda-does-not-exist.so.1") is None
