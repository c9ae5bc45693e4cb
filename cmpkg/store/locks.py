"""OS-level file locks for the store: shared for users of an entry, exclusive for its builder.

Owns: taking and releasing `flock` locks on lock files. A lock held by a process that dies
(even by SIGKILL) is released by the kernel, so there are no stale lock files to clean and
a waiter gets the lock as soon as the holder is gone.

Must not: write anything into lock files or treat their existence as meaningful.
POSIX only (fcntl); on Windows the store refuses to start with a clear error.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

from cmpkg.errors import CmpkgError


def _require_fcntl() -> None:
    if fcntl is None:  # pragma: no cover - Windows
        raise CmpkgError(
            "unsupported-platform",
            "the cmpkg store needs POSIX file locks (fcntl), which this platform lacks",
            hint="run cmpkg on Linux or macOS (WSL works)",
        )


@contextlib.contextmanager
def os_lock(path: Path, *, shared: bool = False, blocking: bool = True) -> Iterator[bool]:
    """Hold a lock on `path` (created if needed); yields False if busy and not `blocking`.

    After locking, the path must still name the inode we locked: whoever deletes a lock
    file does so while holding it exclusively, and we must not keep a lock on a ghost.
    """
    _require_fcntl()
    path.parent.mkdir(parents=True, exist_ok=True)
    operation = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, operation)
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        except BaseException:
            os.close(fd)
            raise
        if _same_inode(path, fd):
            break
        os.close(fd)
    try:
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def _same_inode(path: Path, fd: int) -> bool:
    try:
        return path.stat().st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False
