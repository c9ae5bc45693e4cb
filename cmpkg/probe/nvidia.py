"""NVIDIA GPU sources: NVML, `nvidia-smi`, libcuda and `/proc/driver/nvidia`.

Each source has pure `parse_*(text)` functions (tested on captured outputs) and one `read_*()`
that does the I/O. A reader returns a `GpuReading`, raises `SourceUnavailable` when its source
is not there (no pynvml, no `nvidia-smi` on PATH, no /proc entry), and raises `SourceError` (or
whatever its library raises) when the source is there but answers nonsense. `cmpkg.probe.host`
walks them in order and keeps the first answer. Nothing here compiles anything, and pynvml is
imported only when NVML is actually read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg.probe.model import Gpu

SMI_QUERY = "--query-gpu=name,driver_version,memory.total,compute_cap"
SMI_TIMEOUT_S = 10.0
LIBCUDA_SOURCE = "libcuda cuDriverGetVersion"


class SourceError(Exception):
    """A source is present but its answer cannot be used (the probe logs it and moves on)."""


class SourceUnavailable(Exception):  # noqa: N818 - not an error: the source is simply absent
    """The source is not on this machine (the probe logs why and asks the next one)."""


class GpuReading(NamedTuple):
    """What one GPU source answered."""

    source: str
    driver_version: str | None
    cuda: str | None
    gpus: tuple[Gpu, ...]
    cuda_source: str | None = None  # where `cuda` came from when not from `source` itself


# --- pure parsers -------------------------------------------------------------------------


def cuda_version_from_int(value: int) -> str:
    """CUDA's integer encoding (13000, 12040) -> "13.0", "12.4"."""
    if value <= 0:
        raise SourceError(f"invalid CUDA driver version {value}")
    return f"{value // 1000}.{value % 1000 // 10}"


def parse_nvidia_smi_csv(text: str) -> GpuReading:
    """`nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv`."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("name,"):
        raise SourceError("no CSV header in nvidia-smi output")
    header = [_column_name(cell) for cell in lines[0].split(",")]
    cells = [[cell.strip() for cell in line.split(",")] for line in lines[1:]]
    if not cells or any(len(row) != len(header) for row in cells):
        raise SourceError("nvidia-smi CSV has no GPU rows or ragged rows")
    rows = [dict(zip(header, row, strict=True)) for row in cells]
    gpus = tuple(_csv_gpu(row) for row in rows)
    return GpuReading("nvidia-smi", _version(rows[0].get("driver_version")), None, gpus)


def _column_name(cell: str) -> str:
    return cell.strip().split(" [")[0]  # "memory.total [MiB]" -> "memory.total"


def _csv_gpu(row: dict[str, str]) -> Gpu:
    name = row.get("name", "")
    if not name:
        raise SourceError("a GPU row without a name")
    return Gpu(name, _capability(row.get("compute_cap")), _mib(row.get("memory.total")))


def parse_nvidia_smi_banner(text: str) -> tuple[str | None, str | None]:
    """(driver version, CUDA version) from plain `nvidia-smi` or `nvidia-smi --version`."""
    driver = re.search(r"(?i)driver version\s*:\s*([0-9][0-9.]*)", text)
    cuda = re.search(r"(?i)cuda version\s*:\s*([0-9]+\.[0-9]+)", text)
    return (driver.group(1) if driver else None, cuda.group(1) if cuda else None)


def parse_proc_driver_version(text: str) -> str:
    """The driver version from `/proc/driver/nvidia/version` ("NVRM version: ... 580.159.04")."""
    match = re.search(r"NVRM version:.*?\s([0-9]{3,}\.[0-9]+(?:\.[0-9]+)?)\s", text + " ")
    if not match:
        raise SourceError("no NVRM version line in /proc/driver/nvidia/version")
    return match.group(1)


def parse_proc_gpu_information(text: str) -> Gpu:
    """One `/proc/driver/nvidia/gpus/*/information` file: the model name only."""
    match = re.search(r"^Model:\s*(.+?)\s*$", text, re.MULTILINE)
    if not match:
        raise SourceError("no Model line in a /proc/driver/nvidia/gpus information file")
    return Gpu(match.group(1), None, None)


def _version(text: str | None) -> str | None:
    return text if text and re.fullmatch(r"[0-9]+(\.[0-9]+)*", text) else None


def _capability(text: str | None) -> str | None:
    if text is None or text.startswith("["):  # "[N/A]" on drivers that cannot tell
        return None
    if not re.fullmatch(r"[0-9]+\.[0-9]+", text):
        raise SourceError(f"unexpected compute capability {text!r}")
    return text


def _mib(text: str | None) -> int | None:
    if text is None or text.startswith("["):
        return None
    match = re.fullmatch(r"([0-9]+)\s*(MiB)?", text)
    if not match:
        raise SourceError(f"unexpected memory size {text!r}")
    return int(match.group(1))


# --- readers (I/O) ------------------------------------------------------------------------


def read_libcuda_version(library: str = "libcuda.so.1") -> str | None:
    """The CUDA driver API version from libcuda's cuDriverGetVersion (no cuInit needed).

    dlopen + one call: well under a millisecond, and it works when nvidia-smi is missing.
    """
    import ctypes  # here: a `--target cpu` probe never reads a GPU source

    try:
        libcuda = ctypes.CDLL(library)
    except OSError:
        return None
    version = ctypes.c_int(0)
    if libcuda.cuDriverGetVersion(ctypes.byref(version)) != 0:
        return None
    return cuda_version_from_int(version.value)


def read_nvml(load: Callable[[], Any] | None = None) -> GpuReading:
    """NVML through nvidia-ml-py (the `nvml` extra); unavailable without it or a driver."""
    module = (load or _import_pynvml)()
    if module is None:
        raise SourceUnavailable("nvidia-ml-py is not installed (the `nvml` extra)")
    try:
        module.nvmlInit()
    except module.NVMLError as error:
        raise SourceUnavailable(f"NVML: {error}") from None  # no library or no driver
    try:
        return _nvml_reading(module)
    finally:
        module.nvmlShutdown()


def _import_pynvml() -> Any:
    try:
        import pynvml
    except ImportError:
        return None
    return pynvml


def _nvml_reading(nvml: Any) -> GpuReading:
    driver = _text(nvml.nvmlSystemGetDriverVersion())
    cuda = cuda_version_from_int(int(nvml.nvmlSystemGetCudaDriverVersion_v2()))
    count = int(nvml.nvmlDeviceGetCount())
    gpus = tuple(_nvml_gpu(nvml, nvml.nvmlDeviceGetHandleByIndex(i)) for i in range(count))
    return GpuReading("nvml", driver, cuda, gpus)


def _nvml_gpu(nvml: Any, handle: Any) -> Gpu:
    major, minor = nvml.nvmlDeviceGetCudaComputeCapability(handle)
    memory = nvml.nvmlDeviceGetMemoryInfo(handle).total // (1024 * 1024)
    return Gpu(_text(nvml.nvmlDeviceGetName(handle)), f"{major}.{minor}", int(memory))


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def read_nvidia_smi(
    executable: str = "nvidia-smi",
    cuda_version: Callable[[], str | None] = read_libcuda_version,
) -> GpuReading:
    """The CSV query, and the CUDA version from libcuda or else the plain `nvidia-smi` banner.

    The CSV query cannot report the CUDA version; libcuda answers in microseconds, so the
    second `nvidia-smi` run (about 20 ms) happens only when libcuda cannot be loaded.
    """
    import shutil  # here: a `--target cpu` probe reads no GPU source (shutil pulls bz2, lzma)

    path = shutil.which(executable)
    if path is None:
        raise SourceUnavailable(f"{executable} is not on PATH")
    reading = parse_nvidia_smi_csv(_run([path, SMI_QUERY, "--format=csv"]))
    cuda = cuda_version(), LIBCUDA_SOURCE
    if cuda[0] is None:
        cuda = parse_nvidia_smi_banner(_run([path]))[1], "nvidia-smi"
    return reading._replace(cuda=cuda[0], cuda_source=cuda[1])


def _run(argv: Sequence[str]) -> str:
    import subprocess  # here, as ctypes: only a GPU probe that reaches nvidia-smi runs it

    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=SMI_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SourceError(f"{argv[0]}: {error}") from error
    if done.returncode != 0:
        first = (done.stderr or done.stdout).strip().splitlines()[:1]
        raise SourceError(f"exit {done.returncode}: {' '.join(first)}")
    return done.stdout


def read_proc_driver(
    root: Path = Path("/proc/driver/nvidia"),
    cuda_version: Callable[[], str | None] = read_libcuda_version,
) -> GpuReading:
    """The kernel module's version file (driver only) and its GPU names; CUDA from libcuda."""
    try:
        text = (root / "version").read_text()
    except FileNotFoundError:
        raise SourceUnavailable(f"no {root / 'version'} (no NVIDIA kernel module)") from None
    driver = parse_proc_driver_version(text)
    infos = sorted((root / "gpus").glob("*/information"))
    gpus = tuple(parse_proc_gpu_information(info.read_text()) for info in infos)
    source = str(root / "version")
    cuda = cuda_version()
    return GpuReading(source, driver, cuda, gpus, LIBCUDA_SOURCE if cuda else None)


class GpuSource(NamedTuple):
    """One entry of the GPU source order: a name for the log and its reader."""

    name: str
    read: Callable[[], GpuReading | None]


# The documented order (docs/targets.md): the most precise and cheapest-to-trust first.
DEFAULT_GPU_SOURCES: tuple[GpuSource, ...] = (
    GpuSource("nvml", read_nvml),
    GpuSource("nvidia-smi", read_nvidia_smi),
    GpuSource("/proc/driver/nvidia/version", read_proc_driver),
)
