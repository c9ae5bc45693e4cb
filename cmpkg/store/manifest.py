"""The file manifest of a store entry: what was built, so `verify` can name what changed.

Owns: walking an entry tree into records (relative path, size, sha256 or link target) and
comparing a tree with its records, and making a tree durable (`flush`): the completion
marker must never reach the disk before the bytes it vouches for. One file-system barrier
per entry (`syncfs`) does that for a venv's ~4,400 files at the cost of one `fsync` each.

Must not: follow symlinks (a link is recorded by its target, never read through).
"""

from __future__ import annotations

import functools
import hashlib
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from cmpkg.store.layout import OWN, RESERVED_NAMES

_CHUNK = 1024 * 1024
_OWN = OWN


@dataclass(frozen=True, slots=True)
class FileRecord:
    path: str  # relative, '/'-separated
    size: int
    sha256: str  # "" for symlinks
    link: str = ""  # symlink target, "" for files

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "size": self.size, "sha256": self.sha256}
        if self.link:
            data["link"] = self.link
        return data

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> FileRecord:
        return FileRecord(
            str(data["path"]), int(data["size"]), str(data["sha256"]), str(data.get("link", ""))
        )


@dataclass(frozen=True, slots=True)
class VerifyResult:
    key: str
    changed: tuple[str, ...]
    missing: tuple[str, ...]
    added: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not (self.changed or self.missing or self.added)


def reserved_in(root: Path) -> list[str]:
    """Top-level names of `root` that only the store may write."""
    return sorted(name for name in (p.name for p in root.iterdir()) if name in RESERVED_NAMES)


def _walk(root: Path) -> Iterator[tuple[str, Path]]:
    for directory, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(directory)
        # os.walk lists symlinks to directories among dirnames; record them as links.
        names = sorted(filenames + [d for d in dirnames if (base / d).is_symlink()])
        for name in names:
            path = base / name
            rel = path.relative_to(root).as_posix()
            if rel not in _OWN:
                yield rel, path


def paths(root: Path) -> list[str]:
    """The relative paths a manifest of `root` records, in manifest order."""
    return [rel for rel, _ in _walk(root)]


def record(root: Path, rels: Sequence[str] | None = None) -> list[FileRecord]:
    """Records of every file below `root`, or of `rels` (from `paths`) in that order."""
    if rels is None:
        return [_record_one(rel, path) for rel, path in _walk(root)]
    return [record_one(root, rel) for rel in rels]


def record_one(root: Path, rel: str) -> FileRecord:
    return _record_one(rel, root / rel)


def flush(root: Path) -> None:
    """Make everything written below `root` durable: `syncfs(2)` on its file system (Linux:
    every dirty page and inode of it, waited for, errors reported since 5.8), else
    `os.sync()`. One barrier instead of an `fsync` per file, which cost the rebuild of the
    main job's environment about 15 of its 27 s on a loaded disk (docs/benchmarks.md)."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        syncfs = _syncfs()
        if syncfs is None or syncfs(fd) != 0:
            os.sync()  # no syncfs, or it failed: the whole-system barrier (waits on Linux)
    finally:
        os.close(fd)


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    import ctypes

    try:
        function = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):  # not Linux (or no glibc symbol): os.sync() instead
        return None
    function.argtypes = [ctypes.c_int]
    function.restype = ctypes.c_int
    return cast("Callable[[int], int]", function)


def _record_one(rel: str, path: Path) -> FileRecord:
    mode = path.lstat().st_mode
    if stat.S_ISLNK(mode):
        return FileRecord(rel, 0, "", str(path.readlink()))
    if not stat.S_ISREG(mode):  # a FIFO would block open(); record its type only
        return FileRecord(rel, 0, f"special:{stat.S_IFMT(mode):o}")
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileRecord(rel, size, digest.hexdigest())


def compare(key: str, root: Path, expected: Sequence[FileRecord]) -> VerifyResult:
    wanted = {r.path: r for r in expected}
    changed, added = [], []
    seen: set[str] = set()
    for rel, path in _walk(root):
        seen.add(rel)
        if rel not in wanted:
            added.append(rel)
        elif _record_one(rel, path) != wanted[rel]:
            changed.append(rel)
    missing = sorted(set(wanted) - seen)
    return VerifyResult(key, tuple(changed), tuple(missing), tuple(added))
