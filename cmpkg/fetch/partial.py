"""`.partial` files: held under an OS lock while a download uses them, swept when dead.

Owns: opening and locking a partial file (the lock dies with the process, so a sweeper can
tell a dead download from a live one) and sweeping the dead ones. Must not: delete a
partial that a live process holds.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from cmpkg.fetch.model import PARTIAL_SUFFIX


def sweep_partials(directory: Path) -> list[Path]:
    """Delete `.partial` files under `directory` (buckets included) that no live process
    holds locked; return what was deleted."""
    removed: list[Path] = []
    for path in sorted(Path(directory).rglob("*" + PARTIAL_SUFFIX)):
        with contextlib.suppress(OSError), path.open("rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live download owns it
            path.unlink()
            removed.append(path)
    return removed


@contextlib.contextmanager
def locked_partial(dest: Path) -> Iterator[IO[bytes]]:
    """The `.partial` file opened r+b and held under an exclusive OS lock.

    The lock dies with the process, so `sweep_partials` can tell a dead download from a
    live one. After locking we check the path still names our inode: a sweeper may have
    deleted it between our open() and flock().
    """
    path = dest.with_name(dest.name + PARTIAL_SUFFIX)
    while True:
        fh = _open_rw(path)
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            same = path.stat().st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        yield fh
    finally:
        fh.close()  # closing releases the lock


def _open_rw(path: Path) -> IO[bytes]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    return os.fdopen(fd, "r+b")
