"""The system description (`systems/<system>.json`): probe facts + the lock + the manifest.

`parse_*` are pure (tested on captured text); `read_host()` is the one reader of this
machine (procfs, sysfs, statvfs and cmpkg's GPU probe). `describe()` is pure: the facts a
run recorded, the lock's software, and the manifest's own fields (which win), in the
checker's field names. A field no source filled stays out, so `submission check` names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: What a CPU-only system says in the accelerator fields the checker requires.
NO_ACCELERATOR = "N/A"


def parse_cpuinfo(text: str) -> dict[str, str]:
    """Model name, sockets, cores per socket and nominal MHz from /proc/cpuinfo."""
    model = _first(r"^model name\s*:\s*(.+)$", text)
    sockets = len(set(re.findall(r"^physical id\s*:\s*(\d+)", text, re.M))) or 1
    cores = _first(r"^cpu cores\s*:\s*(\d+)", text)
    logical = len(re.findall(r"^processor\s*:", text, re.M))
    mhz = _first(r"^cpu MHz\s*:\s*([\d.]+)", text)
    out = {"host_processors_per_node": str(sockets)}
    if model:
        out["host_processor_model_name"] = re.sub(r"\s+", " ", model).strip()
    if cores or logical:
        out["host_processor_core_count"] = cores or str(logical)
    if mhz:
        out["host_processor_frequency"] = f"{round(float(mhz))} MHz"
    return out


def parse_caches(entries: list[tuple[str, str, str]]) -> str | None:
    """`L1d: 32K, L1i: 32K, L2: 1024K, L3: 32768K` from (level, type, size) of sysfs."""
    names = []
    for level, kind, size in sorted(entries):
        suffix = {"Data": "d", "Instruction": "i"}.get(kind, "")
        names.append(f"L{level}{suffix}: {size}")
    return ", ".join(names) or None


def parse_mem_total_gib(meminfo: str) -> str | None:
    kib = _first(r"^MemTotal:\s*(\d+)\s*kB", meminfo)
    return None if kib is None else f"{int(kib) / (1 << 20):.1f} GB"


def parse_os_name(os_release: str, kernel: str) -> str | None:
    pretty = _first(r'^PRETTY_NAME="?([^"\n]+)"?', os_release)
    return f"{pretty} (kernel {kernel})" if pretty else None


def _first(pattern: str, text: str) -> str | None:
    found = re.search(pattern, text, re.M)
    return found.group(1) if found else None


def read_host(storage: Path) -> dict[str, str]:
    """This machine's facts in the checker's field names (those no source gave are absent)."""
    import platform
    import shutil

    facts = parse_cpuinfo(_read(Path("/proc/cpuinfo")))
    caches = parse_caches(_cache_entries(Path("/sys/devices/system/cpu/cpu0/cache")))
    memory = parse_mem_total_gib(_read(Path("/proc/meminfo")))
    os_name = parse_os_name(_read(Path("/etc/os-release")), platform.release())
    facts |= {
        k: v
        for k, v in (
            ("host_processor_caches", caches),
            ("host_memory_capacity", memory),
            ("operating_system", os_name),
        )
        if v
    }
    total = shutil.disk_usage(storage).total
    facts["host_storage_capacity"] = f"{total / 1e9:.0f} GB"
    facts["number_of_nodes"] = "1"
    return facts | _accelerators()


def _accelerators() -> dict[str, str]:
    from cmpkg.probe import host

    gpus = host.probe_host().gpus
    if not gpus:
        return {
            "accelerators_per_node": "0",
            "accelerator_model_name": NO_ACCELERATOR,
            "accelerator_memory_capacity": NO_ACCELERATOR,
        }
    memory = gpus[0].memory_mib
    return {
        "accelerators_per_node": str(len(gpus)),
        "accelerator_model_name": gpus[0].name,
        "accelerator_memory_capacity": f"{memory / 1024:.0f} GB" if memory else "",
    }


def _cache_entries(root: Path) -> list[tuple[str, str, str]]:
    out = []
    for index in sorted(root.glob("index*")):
        values = [_read(index / n).strip() for n in ("level", "type", "size")]
        if all(values):
            out.append((values[0], values[1], values[2]))
    return out


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def software(packages: Mapping[str, Any]) -> dict[str, str]:
    """`framework` and `other_software_stack` from the lock's packages (name -> version)."""
    engines = [f"{n} {packages[n]}" for n in sorted(packages) if n in ENGINES]
    rest = [f"{n} {packages[n]}" for n in sorted(packages) if n not in ENGINES]
    return {"framework": ", ".join(engines), "other_software_stack": ", ".join(rest)}


#: Packages that are the inference framework of a system (the rest is its software stack).
ENGINES = frozenset({"onnxruntime", "onnxruntime-gpu", "torch", "torch-system", "tensorrt"})


def describe(
    facts: Mapping[str, str],
    stack: Mapping[str, str],
    head: Mapping[str, str],
    manual: Mapping[str, str],
) -> dict[str, str]:
    """The description: probe facts, then the lock's stack, then the submission's identity
    (`head`: division, submitter, system_name, system_type), then the manifest's fields."""
    return {**facts, **{k: v for k, v in stack.items() if v}, **head, **manual}
