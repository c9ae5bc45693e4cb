"""Replacing a file atomically, and sweeping what killed writers left behind.

A writer creates a temporary sibling `.NAME.<8 hex>.tmp`, holds an exclusive OS lock
(`flock`) on it while it writes, renames it over `NAME`, and only then closes it. A reader
(another cmpkg process, an editor, git) sees the old file or the new one, never a truncated or
half-written one (RELIABILITY.md C.17). A writer killed before the rename leaves its temp file
behind; the kernel drops its lock. `sweep` deletes exactly those: a temp file whose lock it
can take is not being written (RELIABILITY.md C.18), so a live writer's file is never touched.

Used for lockfiles, manifests, environment records, run contexts, problem dumps, mirror
manifests, caches, and (with `durable=True`, fsyncing file and directory) the store's roots
and metadata.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterable
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no sweeping, plain atomic replace
    fcntl = None  # type: ignore[assignment]

# Ours, and the older spelling `.NAME.tmpPID`; `NAME.<8 chars>.tmp` (the store's former
# `tempfile.mkstemp`) only where asked (`legacy`): too loose for other directories. Those
# writers held no lock, so one found unlocked is taken as dead.
# Patterns, compiled by `re`'s cache on first use: only a sweep needs them, and every
# atomic write (`cmpkg run`'s record included) imports this module.
_TEMP = r"^\.(?P<a>.+)\.[0-9a-f]{8}\.tmp$|^\.(?P<c>.+)\.tmp\d+$"
_LEGACY = r"^(?P<b>.+)\.[a-z0-9_]{8}\.tmp$"


def write_text(path: Path, text: str, *, durable: bool = False) -> None:
    write_bytes(path, text.encode("utf-8"), durable=durable)


def write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Replace `path` by `data` atomically; `durable` also survives a power loss (fsync)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _create_locked(path)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if durable:
            os.fsync(fd)
        Path(tmp).replace(path)  # while still locked: a sweeper never sees a finished file
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise
    finally:
        os.close(fd)  # releases the lock
    if durable:
        fsync_dir(path.parent)


def _create_locked(path: Path) -> tuple[int, str]:
    """A new temp file beside `path`, open and exclusively locked."""
    while True:
        tmp = str(path.with_name(f".{path.name}.{os.urandom(4).hex()}.tmp"))
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        if fcntl is None:  # pragma: no cover - Windows
            return fd, tmp
        fcntl.flock(fd, fcntl.LOCK_EX)
        # A sweeper may have locked and unlinked it between our create and our lock.
        if _same_inode(tmp, fd):
            return fd, tmp
        os.close(fd)


def is_temp(name: str, *, of: Iterable[str] | None = None, legacy: bool = False) -> bool:
    """Whether `name` is the temp file of an atomic write (of one of the names `of`)."""
    match = re.match(_TEMP, name) or (re.match(_LEGACY, name) if legacy else None)
    if match is None:
        return False
    target = next(v for v in match.groupdict().values() if v)
    return of is None or target in set(of)


def sweep(directory: Path, *, of: Iterable[str] | None = None, legacy: bool = False) -> list[Path]:
    """Delete the temp files in `directory` (of the names `of`, else all) whose writer is
    gone; returns them. A file whose lock is held by a live writer is left alone."""
    if fcntl is None or not directory.is_dir():  # pragma: no cover - Windows
        return []
    wanted = None if of is None else set(of)
    swept = []
    for entry in sorted(os.scandir(directory), key=lambda e: e.name):
        named = is_temp(entry.name, of=wanted, legacy=legacy)
        ours = named and entry.is_file(follow_symlinks=False)
        if ours and _remove_if_dead(entry.path):
            swept.append(Path(entry.path))
    return swept


def _remove_if_dead(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError:
        return False  # gone already, a link, or not ours to open
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False  # a live writer holds it
    try:
        if _same_inode(path, fd):
            Path(path).unlink()
            return True
        return False
    finally:
        os.close(fd)


def _same_inode(path: str, fd: int) -> bool:
    try:
        return Path(path).lstat().st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
