"""Making a committed entry read-only, and writable again just before it is deleted.

Owns: the permission bits of entry trees. After commit every file and directory loses its
write bits, so a stray `pip install`, an editor or Python writing `__pycache__` cannot change
an entry by accident (they fail with EACCES instead). This is a guard against mistakes, not
a security boundary: the owner may chmod back, and root ignores the bits; the stat table
(`fingerprint`) is what detects a change either way.

Must not: follow symlinks (chmod through a link would change its target, maybe outside).
"""

# os.path on str paths: entries have thousands of files, and pathlib costs per path.
# ruff: noqa: PTH101, PTH118

from __future__ import annotations

import contextlib
import os
import shutil
import stat
from collections.abc import Iterable
from pathlib import Path

_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def freeze_below(root: Path) -> None:
    """Remove the write bits of everything below `root` (not of `root` itself)."""
    for directory, dirnames, filenames in os.walk(root, topdown=False):
        for name in filenames + dirnames:
            _chmod(os.path.join(directory, name), writable=False)


def freeze_top(root: Path, names: Iterable[str]) -> None:
    """Remove the write bits of `root` and of its files `names` (the store's own files,
    written after everything below was frozen)."""
    for name in names:
        _chmod(str(root / name), writable=False)
    _chmod(str(root), writable=False)


def thaw_top(root: Path) -> None:
    _chmod(str(root), writable=True)


def thaw(root: Path) -> None:
    """Give the owner write access to every directory of `root` again, so it can be renamed
    and deleted (files need no write bit to be unlinked)."""
    _chmod(str(root), writable=True)
    for directory, dirnames, _ in os.walk(root):
        for name in dirnames:
            _chmod(os.path.join(directory, name), writable=True)


def rmtree(path: Path) -> None:
    """`shutil.rmtree` that first makes frozen directories deletable; errors are ignored
    (a leftover is swept by the next gc)."""
    with contextlib.suppress(OSError):
        thaw(path)
    shutil.rmtree(path, ignore_errors=True)


def _chmod(path: str, *, writable: bool) -> None:
    with contextlib.suppress(FileNotFoundError):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            return
        mode = stat.S_IMODE(info.st_mode)
        wanted = (mode | stat.S_IWUSR) if writable else (mode & ~_WRITE)
        if wanted != mode:
            os.chmod(path, wanted)
