"""Using a store entry: the shared lock its user holds, and the stamp of its last use.

Owns: holding an entry against `cmpkg cache gc` (a shared OS lock on its lock file, which a
builder or a collector takes exclusively) and stamping `used/<key>` (what `cmpkg cache list`
shows). Split from `cmpkg.store.store` so that `cmpkg run` takes them without importing the
store's build, manifest and gc machinery: an app's start waits on these imports.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from cmpkg.store import layout
from cmpkg.store.keys import check_key
from cmpkg.store.locks import os_lock


def lock_path(base: Path, key: str) -> Path:
    """The lock file of `key` in the store at `base` (`$CMPKG_HOME/store-v1`)."""
    return base / layout.LOCKS / (key + layout.LOCK_SUFFIX)


@contextlib.contextmanager
def hold(base: Path, key: str) -> Iterator[None]:
    """Hold `key` shared (gc leaves it alone) and stamp its use, for the block's duration."""
    with os_lock(lock_path(base, check_key(key)), shared=True):
        mark_used(base, key)
        yield


def mark_used(base: Path, key: str) -> None:
    """Note that `key` was used now: one `utime`. The entry itself is read-only and
    fingerprinted, so the stamp lives in `used/<key>`."""
    path = base / layout.USED / key
    try:
        os.utime(path)
    except FileNotFoundError:
        with contextlib.suppress(OSError):
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    except OSError:
        pass  # a read-only store still works; it just cannot say when it was used
