"""The no-op fast path of `cmpkg install`: the inputs an environment was installed from.

An install run again with the same command line, from the same place, against an unchanged
index, host and tools, into an environment whose entries are intact, has nothing to do.
`pending` gathers, before anything is resolved, the inputs that can be read cheaply; the full
install `save`s them with what it learned (the index revision, the tools it found, the
entries, the answer it printed); the next identical command gets that answer from `answer`
when every input still holds. Any doubt is a miss, and the full path decides.

What is compared (docs/design.md, "The no-op fast path"):
- the record's name: cmpkg's version, the command's words, the working directory and the
  environment variables a resolution can depend on (every `CMPKG_*`, PATH, HOME, XDG_*);
- by content (sha256): the nearest `cmpkg.toml`, the lock when installing from one, the
  config file;
- the host, for a target probed on this machine: uname, CPU count, MemTotal, glibc,
  os-release, the first CPU's /proc/cpuinfo block, cmpkg's own site-packages (archspec and
  packaging live there). A target that asks the GPU sources, on a machine with any sign of
  an NVIDIA driver, is never answered here: NVML is the only cheap-enough reader of a GPU's
  facts, and it is the GPU probe;
- by stat: PATH's directories, every tool found and the places its recipe searches, the
  environment's record, run context and store root (cmpkg rewrites them by rename: a new
  inode and ctime);
- the index: the compiled index's scan (`cmpkg.index.compiled.lookup`) and its revision;
- every entry, by its stat sidecar (`cmpkg.store.fingerprint.intact`).

Must not: import the resolver, plan, renderer, solver glue, index loader, lock or GPU probe
(tests/test_import_budget.py), or answer when any check could not be made.
"""

# Plain `os` calls on str paths: this module runs before anything else of an install, and a
# `Path` per stat costs more than the stat.
# ruff: noqa: PTH100, PTH110, PTH111, PTH112, PTH113, PTH116, PTH117, PTH118, PTH120, PTH123

from __future__ import annotations

import contextlib
import marshal
import os
import site
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg import __version__, sha256

FORMAT = 2  # 2: the record is named by the command's words, not by their parse
DIRECTORY = "noop-v1"
MANIFEST = "cmpkg.toml"  # cmpkg.project.MANIFEST, not imported: that module parses TOML
LOCKFILE = "cmpkg.lock"  # cmpkg.project.LOCKFILE
#: Besides every CMPKG_* variable: what tool search, config and home lookup read.
_ENVIRON = ("PATH", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
#: Any of these means an NVIDIA driver may answer the GPU probe (WSL's is /dev/dxg).
_GPU_SIGNS = ("/proc/driver/nvidia", "/dev/nvidiactl", "/dev/nvidia0", "/dev/dxg")
_MIB_LINE = "MemTotal:"
Stamp = tuple[int, int, int, int] | None


class Pending(NamedTuple):
    """What a command's answer depends on, read before resolving."""

    name: str  # the record's file name: the hash of the command and its environment
    inputs: tuple[Any, ...]  # compared whole with the record's


class Answer(NamedTuple):
    """What the install printed the last time, to print again."""

    env: str
    target: str
    keys: dict[str, str]  # package -> store key, as `--json` prints them
    packages: int
    runnable: bool
    choice: str | None
    apps: tuple[str, ...] = ()  # the environment's apps, when it holds several


def pending(
    words: Sequence[str],
    *,
    target: str,
    lock_mode: str | None,
    lock_path: str | None,
    mirror: str | None,
    start: str,
    environ: Mapping[str, str],
) -> Pending | None:
    """The inputs of the command line `words` (cmpkg's arguments, as typed), which parse to
    these `target`, lock and `mirror` options; None when this command is not one the fast
    path answers (a mirror, a GPU that only the probe can read).

    The record is named by the words themselves, not by their parse: the words, cmpkg's
    version, the working directory and the variables below determine what the parser makes
    of them, and `cmpkg.cli` can then find the record before it builds a parser (another
    spelling of the same command is another record: one full install more)."""
    if mirror or environ.get("CMPKG_MIRROR"):
        return None  # opening a mirror checks its freshness: never skipped
    # From a lock, `--target` names one of the lock's targets and the host is probed whole.
    host = _host("host" if lock_mode else target, environ)
    if host is None:
        return None
    steering = sorted((k, v) for k, v in environ.items() if k.startswith("CMPKG_"))
    steering += [(k, environ.get(k)) for k in _ENVIRON]  # type: ignore[misc]
    name = _sha256(repr((__version__, FORMAT, list(words), start, steering)).encode())[:32]
    project = _find_project(start)
    lock = None
    if lock_mode is not None:
        lock = lock_path or os.path.join(os.path.dirname(project) if project else start, LOCKFILE)
    files = (project, _digest(project), lock, _digest(lock))
    path_dirs = [(d, _stamp(d)) for d in environ.get("PATH", "").split(os.pathsep) if d]
    return Pending(name, (files, host, path_dirs))


def with_config(given: Pending, config_file: Path) -> Pending:
    """`given` plus the config file's content: read at the start of the full install, whose
    `cmpkg.config` knows where it is (a path decided by variables already in the name)."""
    path = str(config_file)
    return Pending(given.name, (*given.inputs, (path, _digest(path))))


def answer(given: Pending, home: str | None = None) -> Answer | None:
    """The recorded answer when every recorded input still holds, else None. `home`:
    cmpkg's home (default `cmpkg.config.home()`)."""
    if home is None:
        from cmpkg.config import home as default_home

        home = str(default_home())
    record = _read(os.path.join(home, DIRECTORY, given.name))
    try:
        fmt, version, inputs, config, index, tools, files, entries, used, shown = record
    except (TypeError, ValueError):
        return None
    if (fmt, version) != (FORMAT, __version__) or tuple(inputs) != given.inputs:
        return None
    if _digest(config[0]) != config[1] or not _index_unchanged(*index):
        return None
    if _stamps(tools) != tools or _stamps(files) != files:
        return None
    from cmpkg.store import fingerprint

    if not all(fingerprint.intact(e) for e in entries):
        return None
    for path in used:  # as the full path's `Store.mark_used`: `cmpkg cache list` shows it
        with contextlib.suppress(OSError):
            os.utime(path)
    return Answer(*shown)


def save(
    home: Path,
    given: Pending,
    *,
    index: tuple[str, str],
    tools: Iterable[str],
    files: Iterable[str],
    entries: Iterable[str],
    used: Iterable[str],
    shown: Answer,
) -> None:
    """Record a completed install (atomically: a reader sees a whole record or none)."""
    from cmpkg import atomic

    *inputs, config = given.inputs
    record = (
        FORMAT,
        __version__,
        list(inputs),
        config,
        index,
        [(p, _stamp(p)) for p in sorted(set(tools))],
        [(p, _stamp(p)) for p in files],
        sorted(set(entries)),
        sorted(set(used)),
        tuple(shown),
    )
    path = home / DIRECTORY / given.name
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic.write_bytes(path, marshal.dumps(record))


def tool_paths(found: Iterable[str], searched: Iterable[str], detect_file: Path) -> list[str]:
    """What tool detection looked at: the `found` tools, the recipes' `searched` locations
    and version files, and the site directories of a found interpreter (a package installed
    there changes a module detected through it)."""
    paths = [os.path.expanduser(p) for p in (*found, *searched) if p]
    entries = _read_json(detect_file)
    for tool in list(paths):
        dirs = entries.get(f"site-dirs {tool}", {}) if isinstance(entries, dict) else {}
        paths += [str(d) for d in dirs.get("dirs", ())] if isinstance(dirs, dict) else []
    return [p for p in paths if os.path.isabs(p)]


# --- the host --------------------------------------------------------------------------


def _host(target: str, environ: Mapping[str, str]) -> tuple[Any, ...] | None:
    """The host's facts' sources, for a target probed here; None if a GPU may answer."""
    base = target.partition(":")[0].strip() or "host"
    if "/" in base or base.endswith(".toml"):  # a profile file: its content, no probe
        return ("profile", base, _digest(os.path.abspath(base)))
    if base not in ("host", "cpu", "cuda"):
        return ("profile", base)  # shipped profiles are files of the index: its scan covers them
    gpus = base != "cpu" and environ.get("CMPKG_OVERRIDE_CUDA") != ""
    if gpus and (any(os.path.exists(p) for p in _GPU_SIGNS) or _on_path("nvidia-smi", environ)):
        return None
    uname = os.uname()
    return (
        (uname.sysname, uname.release, uname.version, uname.machine),
        os.cpu_count(),
        _mem_total(),
        _glibc(),
        _digest("/etc/os-release"),
        _first_cpu(),
        [(d, _stamp(d)) for d in _site_dirs()],
    )


def _on_path(program: str, environ: Mapping[str, str]) -> bool:
    dirs = environ.get("PATH", "").split(os.pathsep)
    return any(os.access(os.path.join(d, program), os.X_OK) for d in dirs if d)


def _mem_total() -> str | None:
    try:
        with open("/proc/meminfo") as fh:
            return next((line for line in fh if line.startswith(_MIB_LINE)), None)
    except OSError:
        return None


def _glibc() -> str | None:
    try:
        return os.confstr("CS_GNU_LIBC_VERSION")
    except (ValueError, OSError, AttributeError):
        return None


def _first_cpu() -> list[str] | None:
    """The first processor's /proc/cpuinfo block without its clock (which moves): what
    archspec reads for the microarchitecture, and the flags."""
    try:
        with open("/proc/cpuinfo") as fh:
            block = fh.read(1 << 16).partition("\n\n")[0]
    except OSError:
        return None
    return [line for line in block.splitlines() if not line.startswith("cpu MHz")]


def _site_dirs() -> list[str]:
    """cmpkg's own site-packages: installing or upgrading a dependency (archspec, packaging,
    nvidia-ml-py, uv) renames entries in it, which moves its mtime."""
    try:
        return [d for d in site.getsitepackages() if os.path.isdir(d)]
    except AttributeError:  # a virtualenv-made `site` without it
        return []


# --- files --------------------------------------------------------------------------------


def _find_project(start: str) -> str | None:
    """The nearest cmpkg.toml at or above `start` (as `cmpkg.project.find`)."""
    directory = start
    while True:
        candidate = os.path.join(directory, MANIFEST)
        if os.path.isfile(candidate):
            return candidate
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _index_unchanged(base: str, revision: str) -> bool:
    from cmpkg.index import compiled

    def never() -> compiled.Table:
        raise LookupError  # the table is not read here

    found = compiled.lookup(Path(base), never)
    return found is not None and found.revision == revision


def _stamp(path: str) -> Stamp:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


def _stamps(recorded: Sequence[tuple[str, Stamp]]) -> list[tuple[str, Stamp]]:
    return [(path, _stamp(path)) for path, _ in recorded]


def _digest(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        with open(path, "rb") as fh:
            return _sha256(fh.read())
    except OSError:
        return None


def _sha256(data: bytes) -> str:
    return sha256.hexdigest(data)


def _read(path: str) -> Any:
    try:
        with open(path, "rb") as fh:
            return marshal.loads(fh.read())
    except (OSError, EOFError, ValueError, TypeError):
        return None


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
