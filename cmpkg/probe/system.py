"""Host OS and CPU sources: os-release, glibc, kernel, /proc/meminfo, /proc/cpuinfo, archspec.

Pure `parse_*(text)` functions plus one `read_system()` that does the I/O and returns a
`SystemReading`. archspec and packaging.tags are imported inside the readers only, so importing
`cmpkg.probe` stays cheap. `microarch_lineage()` also serves profiles and overrides.
"""

from __future__ import annotations

import os
import platform
import re
import sys
from pathlib import Path
from typing import NamedTuple

# platform.machine() spellings -> the names archspec, wheels and cmpkg use.
_ARCH_ALIASES = {"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64"}


class SystemReading(NamedTuple):
    """The non-GPU facts of the host, each field None when its source could not answer."""

    os: str
    arch: str
    python: str
    platform_tags: tuple[str, ...] | None  # None: this interpreter's, read when asked
    kernel: str | None = None
    distro: str | None = None
    distro_version: str | None = None
    glibc: str | None = None
    cpu_count: int | None = None
    ram_mib: int | None = None
    disk_free_mib: int | None = None
    microarch: str | None = None
    microarch_lineage: tuple[str, ...] = ()
    cpu_flags: tuple[str, ...] = ()


# Where each SystemReading field comes from, for `cmpkg target show`.
SYSTEM_SOURCES = {
    "os": "platform.system()",
    "arch": "platform.machine()",
    "python": "sys.version_info",
    "platform_tags": "packaging.tags",
    "kernel": "platform.release()",
    "kernel_version": "platform.release()",
    "distro": "/etc/os-release",
    "distro_version": "/etc/os-release",
    "glibc": "confstr(CS_GNU_LIBC_VERSION)",
    "cpu_count": "os.cpu_count()",
    "ram_mib": "/proc/meminfo",
    "disk_free_mib": "statvfs",
    "microarch": "archspec",
    "microarch_lineage": "archspec",
    "cpu_flags": "/proc/cpuinfo",
}


# --- pure parsers -------------------------------------------------------------------------


def parse_os_release(text: str) -> dict[str, str]:
    """KEY=value pairs of os-release(5), quotes removed; other lines are ignored."""
    result = {}
    for line in text.splitlines():
        match = re.fullmatch(r"([A-Z_][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            result[match.group(1)] = match.group(2).strip().strip("'\"")
    return result


def parse_glibc_version(text: str) -> str | None:
    """ "glibc 2.39" (confstr) or "ldd (Ubuntu GLIBC 2.39-0ubuntu8.9) 2.39" -> "2.39"."""
    match = re.search(r"(?i)glibc[ _-]?([0-9]+\.[0-9]+)", text)
    return match.group(1) if match else None


def parse_kernel_version(release: str) -> str | None:
    """The PEP 440 part of a kernel release: "6.18.44-fc-v657-gpu" -> "6.18.44"."""
    match = re.match(r"([0-9]+(?:\.[0-9]+){0,2})", release)
    return match.group(1) if match else None


def parse_meminfo(text: str) -> int | None:
    """MemTotal from /proc/meminfo, in MiB."""
    match = re.search(r"^MemTotal:\s*([0-9]+)\s*kB", text, re.MULTILINE)
    return int(match.group(1)) // 1024 if match else None


def parse_cpuinfo_flags(text: str) -> tuple[str, ...]:
    """The first CPU's feature flags (x86 `flags`, aarch64 `Features`), sorted."""
    match = re.search(r"^(?:flags|Features)\s*:\s*(.*)$", text, re.MULTILINE)
    return tuple(sorted(set(match.group(1).split()))) if match else ()


def normalize_arch(machine: str) -> str:
    return _ARCH_ALIASES.get(machine.lower(), machine.lower())


# --- readers (I/O) ------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return None


def read_glibc() -> str | None:
    try:
        return parse_glibc_version(os.confstr("CS_GNU_LIBC_VERSION") or "")
    except (ValueError, OSError, AttributeError):
        return None  # musl, macOS, Windows: no glibc


def read_disk_free_mib(path: Path) -> int | None:
    """Free space at `path` or its nearest existing parent (the cache may not exist yet)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return _free_bytes(candidate) // (1024 * 1024)
    return None


def _free_bytes(path: Path) -> int:
    """`shutil.disk_usage(path).free`, without importing shutil (and its zlib, bz2, lzma)."""
    if hasattr(os, "statvfs"):
        st = os.statvfs(path)
        return st.f_bavail * st.f_frsize
    import shutil  # pragma: no cover - Windows

    return shutil.disk_usage(path).free  # pragma: no cover


def read_microarch(cache_dir: Path | None = None) -> tuple[str | None, tuple[str, ...]]:
    """The host's archspec microarchitecture and its lineage, memoised in `cache_dir` by
    archspec's inputs (`cmpkg.probe.microarch`); archspec is imported only on a miss."""
    from cmpkg.probe.microarch import read_cached

    return read_cached(cache_dir, _detect_microarch)


def _detect_microarch() -> tuple[str | None, tuple[str, ...]]:
    try:
        import archspec.cpu

        name = str(archspec.cpu.host().name)
        return name, microarch_lineage(name)
    except Exception:  # archspec missing or puzzled by this CPU: no microarch fact, no traceback
        return None, ()


def microarch_lineage(name: str) -> tuple[str, ...]:
    """`name`, then every archspec target its code runs on, most specific first.

    Raises KeyError for a name archspec does not know.
    """
    import archspec.cpu

    target = archspec.cpu.TARGETS[name]
    older = sorted(target.ancestors, key=lambda a: (-len(a.ancestors), a.name))
    return (str(target.name), *(str(a.name) for a in older))


def microarch_family(name: str) -> str:
    import archspec.cpu

    return str(archspec.cpu.TARGETS[name].family.name)


def read_platform_tags() -> tuple[str, ...]:
    """This interpreter's wheel platform tags (packaging.tags imported here, asked once)."""
    if not _PLATFORM_TAGS:
        from packaging import tags

        _PLATFORM_TAGS.append(tuple(tags.platform_tags()))
    return _PLATFORM_TAGS[0]


_PLATFORM_TAGS: list[tuple[str, ...]] = []  # a memo: the interpreter does not change


def read_system(
    os_release: Path = Path("/etc/os-release"),
    meminfo: Path = Path("/proc/meminfo"),
    cpuinfo: Path = Path("/proc/cpuinfo"),
    cache_dir: Path | None = None,
) -> SystemReading:
    """Read every non-GPU fact of this host; a missing file only leaves its fields empty."""
    release = parse_os_release(_read(os_release) or "")
    microarch, lineage = read_microarch(cache_dir)
    return SystemReading(
        os=platform.system().lower(),
        arch=normalize_arch(platform.machine()),
        python=f"{sys.version_info.major}.{sys.version_info.minor}",
        platform_tags=None,  # read when a wheel is chosen: `Target.wheel_tags()`
        kernel=platform.release() or None,
        distro=release.get("ID"),
        distro_version=release.get("VERSION_ID"),
        glibc=read_glibc(),
        cpu_count=os.cpu_count(),
        ram_mib=parse_meminfo(_read(meminfo) or ""),
        disk_free_mib=read_disk_free_mib(cache_dir) if cache_dir else None,
        microarch=microarch,
        microarch_lineage=lineage,
        cpu_flags=parse_cpuinfo_flags(_read(cpuinfo) or ""),
    )
