"""The host's archspec microarchitecture, memoised by everything archspec reads to find it.

archspec costs a resolve more than any other probe source (its import, with `subprocess`,
`ctypes` and its JSON of every target, and the detection: about 20 ms on this VM), and its
answer changes only when one of its inputs does. On Linux those are (archspec 0.2's
`detect.proc_cpuinfo` and `host()`): the first processor block of `/proc/cpuinfo`,
`platform.machine()`, and archspec's own table of targets. The key hashes all three (the
table by archspec's version and its JSON file's size and mtime_ns), leaving out only the
`cpu MHz` line, which moves all the time and which archspec does not read. Anywhere else
(macOS asks `sysctl`), or with `ARCHSPEC_CPU_DIR` / `ARCHSPEC_EXTENSION_CPU_DIR` pointing
archspec at other tables, nothing is memoised: archspec is asked every time.

Entries live in `$CMPKG_HOME/microarch-v1.json` as `{key: [name, lineage]}`, rewritten
atomically; a damaged file is only a miss. A home shared by several kinds of node keeps one
entry per kind (the newest `KEEP`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
from collections.abc import Callable
from pathlib import Path

FILE = "microarch-v1.json"
KEEP = 16  # entries kept: one per kind of CPU that shares this home
_CPUINFO = "/proc/cpuinfo"
_UNCACHEABLE_ENV = ("ARCHSPEC_CPU_DIR", "ARCHSPEC_EXTENSION_CPU_DIR")

Reading = tuple[str | None, tuple[str, ...]]  # (name, lineage), as `system.read_microarch`


def first_block(cpuinfo: str) -> str:
    """The first processor's lines of /proc/cpuinfo (what archspec parses), minus `cpu MHz`."""
    lines: list[str] = []
    for line in cpuinfo.splitlines():
        if ":" not in line and lines:
            break  # the blank line after the first processor: archspec stops there too
        if not line.startswith("cpu MHz"):
            lines.append(line)
    return "\n".join(lines)


def key(cpuinfo: str, machine: str, archspec_stamp: str) -> str:
    """The memo key of one reading: a pure function of archspec's inputs (module docstring)."""
    text = json.dumps([first_block(cpuinfo), machine, archspec_stamp])
    return hashlib.sha256(text.encode()).hexdigest()


def read_cached(cache_dir: Path | None, detect: Callable[[], Reading]) -> Reading:
    """`detect()`'s answer, from the memo in `cache_dir` when archspec's inputs are unchanged."""
    current = _current_key() if cache_dir is not None else None
    if current is None or cache_dir is None:
        return detect()
    path = cache_dir / FILE
    entries = _load(path)
    hit = entries.get(current)
    if isinstance(hit, list) and len(hit) == 2 and isinstance(hit[1], list):
        name = hit[0] if isinstance(hit[0], str) else None
        return name, tuple(str(a) for a in hit[1])
    reading = detect()
    if reading[0] is not None:  # archspec puzzled or missing: ask again next time
        _store(path, entries, current, reading)
    return reading


def _current_key() -> str | None:
    """This host's key, or None where archspec reads more than the key covers."""
    if platform.system() != "Linux" or any(v in os.environ for v in _UNCACHEABLE_ENV):
        return None
    stamp = _archspec_stamp()
    if stamp is None:
        return None
    try:
        with open(_CPUINFO, encoding="utf-8", errors="replace") as f:  # noqa: PTH123
            cpuinfo = f.read()
    except OSError:
        return None
    return key(cpuinfo, platform.machine(), stamp)


def _archspec_stamp() -> str | None:
    """archspec's version and its target table's stat (`import archspec` alone is cheap)."""
    try:
        import archspec

        table = Path(archspec.__file__).parent / "json" / "cpu" / "microarchitectures.json"
        st = table.stat()
    except (ImportError, OSError, TypeError):
        return None
    return f"{archspec.__version__} {st.st_size} {st.st_mtime_ns}"


def _load(path: Path) -> dict[str, object]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _store(path: Path, entries: dict[str, object], current: str, reading: Reading) -> None:
    from cmpkg import atomic

    kept = {k: v for k, v in entries.items() if k != current}
    kept = dict(list(kept.items())[-(KEEP - 1) :]) if KEEP > 1 else {}
    kept[current] = [reading[0], list(reading[1])]
    # Only a speed-up: a read-only home just means asking archspec every time.
    with contextlib.suppress(OSError):
        atomic.write_text(path, json.dumps(kept))
