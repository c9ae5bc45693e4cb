"""The reuse check (`Store.check` / `require_intact`): the stat table taken at commit finds
every content change and every added or removed name, without reading unchanged files.

Entries are read-only after commit; the tests make a path writable first, as anyone owning
the files (or root) can, and then tamper with it the way that fooled the old size+mtime check.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.store import Entry, Store, entry_key
from cmpkg.store.layout import METADATA


def build(tmp: Path) -> dict[str, Any]:
    site = tmp / "venv" / "lib" / "site-packages"
    site.mkdir(parents=True)
    (site / "rt.py").write_text("VERSION = '2.0'\n")
    (site / "empty").mkdir()
    (tmp / "bin").mkdir()
    (tmp / "bin" / "tool").write_text("#!/bin/sh\necho hi\n")
    (tmp / "bin" / "link").symlink_to("tool")
    return {}


@pytest.fixture
def entry(tmp_path: Path) -> Iterator[tuple[Store, Entry]]:
    store = Store(tmp_path / "home")
    made = store.ensure(entry_key({"name": "rt"}), build, {"package": "rt", "version": "2.0"})
    assert store.check(made).ok
    yield store, made


def writable(*paths: Path) -> None:
    for path in paths:
        path.chmod(path.stat().st_mode | stat.S_IWUSR)


def problems(store: Store, entry: Entry) -> tuple[tuple[str, ...], ...]:
    result = store.check(entry)
    return result.changed, result.missing, result.added


def test_same_size_edit_with_the_mtime_put_back_is_found(entry: tuple[Store, Entry]) -> None:
    store, made = entry
    target = made.path / "venv" / "lib" / "site-packages" / "rt.py"
    before = target.stat()
    writable(target)
    target.write_text("VERSION = '6.6'\n")  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))  # what `touch -r` does
    assert target.stat().st_size == before.st_size
    assert target.stat().st_mtime_ns == before.st_mtime_ns
    assert problems(store, made) == (("venv/lib/site-packages/rt.py",), (), ())
    with pytest.raises(CmpkgError) as caught:
        store.require_intact(made)
    assert caught.value.code == "entry-modified"
    assert "rt.py" in caught.value.message and "(rt)" in caught.value.message


@pytest.mark.parametrize(
    "where", ["venv/lib/site-packages/evil.pth", "evil.pth", "venv/lib/site-packages/empty/x"]
)
def test_an_added_file_is_found(entry: tuple[Store, Entry], where: str) -> None:
    store, made = entry
    added = made.path / where
    writable(added.parent)
    added.write_text("import os; os.system('curl evil')\n")
    assert problems(store, made) == ((), (), (where,))


def test_an_added_empty_directory_and_a_removed_file_are_found(
    entry: tuple[Store, Entry],
) -> None:
    store, made = entry
    writable(made.path / "bin")
    (made.path / "bin" / "newdir").mkdir()
    (made.path / "bin" / "tool").unlink()
    assert problems(store, made) == ((), ("bin/tool",), ("bin/newdir",))


def test_a_removed_directory_is_found(entry: tuple[Store, Entry]) -> None:
    store, made = entry
    writable(made.path / "venv" / "lib" / "site-packages")
    (made.path / "venv" / "lib" / "site-packages" / "empty").rmdir()
    assert problems(store, made)[1] == ("venv/lib/site-packages/empty/",)


def test_a_replaced_file_and_a_retargeted_link_are_found(entry: tuple[Store, Entry]) -> None:
    store, made = entry
    bin_dir = made.path / "bin"
    writable(bin_dir)
    (bin_dir / "tool.new").write_text("#!/bin/sh\necho ho\n")  # same size, new inode
    (bin_dir / "tool.new").replace(bin_dir / "tool")
    (bin_dir / "link").unlink()
    (bin_dir / "link").symlink_to("/bin/sh")
    assert problems(store, made) == (("bin/link", "bin/tool"), (), ())


def test_a_touched_but_unchanged_file_is_accepted(entry: tuple[Store, Entry]) -> None:
    store, made = entry
    target = made.path / "bin" / "tool"
    os.utime(target, ns=(1, 1))  # the stamp moves; the slow path re-hashes and agrees
    assert store.check(made).ok
    writable(made.path / "bin")
    (made.path / "bin" / "tmp").write_text("x")
    (made.path / "bin" / "tmp").unlink()  # the directory moved but holds the same names
    assert store.check(made).ok


def test_committed_entries_are_read_only(entry: tuple[Store, Entry]) -> None:
    _store, made = entry
    for path in [made.path, *made.path.rglob("*")]:
        if not path.is_symlink():
            assert not stat.S_IMODE(path.lstat().st_mode) & 0o222, path


def test_read_only_entries_can_still_be_removed_and_collected(tmp_path: Path) -> None:
    store = Store(tmp_path / "home")
    keys = [entry_key({"name": n}) for n in ("a", "b")]
    for key in keys:
        store.ensure(key, build)
    store.remove(keys[0])
    assert store.gc().removed == (keys[1],)
    assert not any((store.base / "entries").iterdir())
    assert not any((store.base / "tmp").iterdir())


def test_an_entry_without_a_stat_table_is_re_hashed(entry: tuple[Store, Entry]) -> None:
    store, made = entry
    old = Entry(made.key, made.path, {k: v for k, v in made.metadata.items() if k != "stat"})
    assert store.check(old).ok
    writable(made.path)
    (made.path / "new").write_text("x")
    assert store.check(old).added == ("new",)
    assert METADATA not in store.check(made).added


def test_an_entry_written_before_the_table_gets_one_once_verified(
    entry: tuple[Store, Entry],
) -> None:
    import json

    store, made = entry
    metadata = made.path / METADATA
    writable(made.path, metadata)
    old = {k: v for k, v in made.metadata.items() if k != "stat"} | {"format": 1}
    metadata.write_text(json.dumps(old))
    legacy = store.get(made.key)
    assert legacy is not None and "stat" not in legacy.metadata
    assert store.check(legacy).ok  # re-hashed in full, then upgraded
    upgraded = store.get(made.key)
    assert upgraded is not None and upgraded.metadata["format"] == 2
    assert "stat" in upgraded.metadata and store.check(upgraded).ok
    target = made.path / "bin" / "tool"
    before = target.stat()
    writable(target)
    target.write_text("#!/bin/sh\necho ho\n")
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert store.check(upgraded).changed == ("bin/tool",)
