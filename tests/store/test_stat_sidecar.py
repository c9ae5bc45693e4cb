"""The stat sidecar (`cmpkg-stat.bin`, `fingerprint.intact`): the no-op install's whole check
of an entry. It must say "not intact" for every change `Store.check` finds (the caller then
takes the full path, which names the change), and "intact" for an untouched entry.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from cmpkg.store import Entry, Store, entry_key, fingerprint
from cmpkg.store.layout import STAT
from tests.store.test_reuse_check import build, writable

SITE = "venv/lib/site-packages"


def made(tmp_path: Path) -> tuple[Store, Entry]:
    store = Store(tmp_path / "home")
    entry = store.ensure(entry_key({"name": "rt"}), build, {"package": "rt"})
    return store, entry


def edit_with_mtime_put_back(root: Path) -> None:
    target = root / SITE / "rt.py"
    before = target.stat()
    writable(target)
    target.write_text("VERSION = '6.6'\n")  # same size, then the old mtime: only ctime moved
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))


def add_deep(root: Path) -> None:
    writable(root / SITE / "empty")
    (root / SITE / "empty" / "evil.pth").write_text("import os\n")


def add_top(root: Path) -> None:
    writable(root)
    (root / "evil.pth").write_text("import os\n")


def remove(root: Path) -> None:
    writable(root / "bin")
    (root / "bin" / "tool").unlink()


def remove_directory(root: Path) -> None:
    writable(root / SITE)
    (root / SITE / "empty").rmdir()


def replace_file(root: Path) -> None:
    writable(root / "bin")
    (root / "bin" / "new").write_text("#!/bin/sh\necho hi\n")
    (root / "bin" / "new").replace(root / "bin" / "tool")  # same bytes, another inode


def remove_marker(root: Path) -> None:
    writable(root)
    (root / ".cmpkg-complete").unlink()


CHANGES: dict[str, Callable[[Path], None]] = {
    "edit": edit_with_mtime_put_back,
    "add-deep": add_deep,
    "add-top": add_top,
    "remove": remove,
    "remove-dir": remove_directory,
    "replace": replace_file,
    "marker": remove_marker,
}


def test_an_untouched_entry_is_intact(tmp_path: Path) -> None:
    _, entry = made(tmp_path)
    assert (entry.path / STAT).is_file()
    assert fingerprint.intact(str(entry.path))


@pytest.mark.parametrize("change", sorted(CHANGES))
def test_every_change_makes_it_not_intact(tmp_path: Path, change: str) -> None:
    store, entry = made(tmp_path)
    CHANGES[change](entry.path)
    assert not fingerprint.intact(str(entry.path))
    # The full path then decides: it names a real change, and accepts the same bytes under
    # a new inode (re-hashed); a missing marker makes the entry invisible (`Store.get`).
    assert store.check(entry).ok == (change in ("replace", "marker"))


def test_a_touch_sends_it_to_the_full_check_which_accepts_it(tmp_path: Path) -> None:
    store, entry = made(tmp_path)
    os.utime(entry.path / SITE / "rt.py")
    assert not fingerprint.intact(str(entry.path))
    assert store.check(entry).ok


def test_no_sidecar_is_not_intact_and_the_full_check_writes_one(tmp_path: Path) -> None:
    store, entry = made(tmp_path)
    writable(entry.path)
    (entry.path / STAT).unlink()
    entry.path.chmod(0o555)
    assert not fingerprint.intact(str(entry.path))
    assert store.check(entry).ok  # an entry of an older cmpkg: given its sidecar now
    assert fingerprint.intact(str(entry.path))


def test_a_damaged_sidecar_is_not_intact(tmp_path: Path) -> None:
    _, entry = made(tmp_path)
    writable(entry.path, entry.path / STAT)
    (entry.path / STAT).write_bytes(b"\x00garbage")
    assert not fingerprint.intact(str(entry.path))


def test_a_build_cannot_write_the_sidecar_itself(tmp_path: Path) -> None:
    from cmpkg.errors import CmpkgError

    def forged(tmp: Path) -> dict[str, str]:
        shutil.copy(Path(__file__), tmp / STAT)
        return {}

    with pytest.raises(CmpkgError) as caught:
        Store(tmp_path / "home").ensure(entry_key({"name": "x"}), forged)
    assert caught.value.code == "reserved-name"
