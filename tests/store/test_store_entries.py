"""Store basics: keys, atomic entries, verify, remove, roots and gc (in one process)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.store import Store, entry_key
from cmpkg.store.layout import LAYOUT, MARKER, METADATA
from cmpkg.store.locks import os_lock


def key_of(name: str, **extra: Any) -> str:
    return entry_key({"name": name, "version": "1.0", **extra})


def writer(**files: str) -> Any:
    def build(tmp: Path) -> dict[str, Any]:
        for name, text in files.items():
            path = tmp / name.replace("__", "/")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return {"built": sorted(files)}

    return build


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "home")


# ---------------------------------------------------------------- keys


def test_entry_key_is_canonical() -> None:
    a = entry_key({"name": "onnx", "variants": {"device": "cpu", "precision": "fp32"}})
    b = entry_key({"variants": {"precision": "fp32", "device": "cpu"}, "name": "onnx"})
    assert a == b and len(a) == 64
    assert entry_key({"deps": ("x", "y")}) == entry_key({"deps": ["x", "y"]})


def test_different_variants_never_share_a_key() -> None:
    cpu = entry_key({"name": "torch", "variants": {"device": "cpu"}})
    cuda = entry_key({"name": "torch", "variants": {"device": "cuda"}})
    assert cpu != cuda


def test_entry_key_refuses_non_json() -> None:
    with pytest.raises(CmpkgError, match="not plain JSON"):
        entry_key({"x": math.nan})
    with pytest.raises(CmpkgError):
        entry_key({"x": object()})


# ---------------------------------------------------------------- ensure / get


def test_ensure_builds_once_and_records_everything(store: Store) -> None:
    key = key_of("a")
    calls: list[Path] = []

    def build(tmp: Path) -> dict[str, Any]:
        calls.append(tmp)
        return writer(bin__tool="#!", data="d")(tmp)

    entry = store.ensure(key, build, {"name": "a", "version": "1.0"})
    again = store.ensure(key, build)
    assert len(calls) == 1 and again.path == entry.path == store.entry_path(key)
    assert entry.meta == {"name": "a", "version": "1.0"}
    assert entry.build_result == {"built": ["bin__tool", "data"]}
    assert sorted(f.path for f in entry.files) == ["bin/tool", "data"]
    assert (entry.path / MARKER).read_text().strip() == key
    assert json.loads((entry.path / METADATA).read_text())["key"] == key
    assert store.get(key) == store.info(key)
    assert list((store.base / "tmp").iterdir()) == []
    assert store.base.name == LAYOUT == "store-v1"


def test_incomplete_entry_is_invisible_and_rebuilt(store: Store) -> None:
    key = key_of("a")
    half = store.entry_path(key)
    half.mkdir(parents=True)
    (half / METADATA).write_text("{}")
    assert store.get(key) is None and store.list() == []
    entry = store.ensure(key, writer(f="x"))
    assert (entry.path / "f").read_text() == "x" and not (entry.path / "garbage").exists()


@pytest.mark.parametrize("exc", [RuntimeError("step failed"), KeyboardInterrupt()])
def test_failed_or_interrupted_build_leaves_nothing(store: Store, exc: BaseException) -> None:
    key = key_of("a")

    def build(tmp: Path) -> dict[str, Any]:
        (tmp / "half").write_text("x")
        raise exc

    with pytest.raises(type(exc)):
        store.ensure(key, build)
    assert store.get(key) is None and not store.entry_path(key).exists()
    assert list((store.base / "tmp").iterdir()) == []
    with os_lock(store._lock_path(key), blocking=False) as held:
        assert held  # the lock was released


@pytest.mark.parametrize("name", [MARKER, METADATA])
def test_build_cannot_write_reserved_names(store: Store, name: str) -> None:
    key = key_of("a")

    def build(tmp: Path) -> dict[str, Any]:
        (tmp / name).write_text(key)
        return {}

    with pytest.raises(CmpkgError) as caught:
        store.ensure(key, build)
    assert caught.value.code == "reserved-name"
    assert store.get(key) is None


def test_bad_key_refused(store: Store) -> None:
    with pytest.raises(CmpkgError, match="not a store key"):
        store.ensure("../../etc", writer())


# ---------------------------------------------------------------- verify (A4)


def test_verify_names_changed_missing_and_added(store: Store) -> None:
    key = key_of("a")
    entry = store.ensure(key, writer(a="1", b="2", sub__c="3"))
    assert store.verify(key).ok
    (entry.path / "a").write_text("tampered")
    (entry.path / "sub" / "c").unlink()
    (entry.path / "new").write_text("added")
    result = store.verify(key)
    assert (result.changed, result.missing, result.added) == (("a",), ("sub/c",), ("new",))
    assert not result.ok
    with pytest.raises(CmpkgError) as caught:
        store.require_intact(entry)
    assert caught.value.code == "entry-modified"
    assert caught.value.details == ("changed: a", "missing: sub/c", "added: new")


def test_verify_sees_symlink_retargeted(store: Store) -> None:
    def build(tmp: Path) -> dict[str, Any]:
        (tmp / "lib.so").write_text("x")
        (tmp / "link.so").symlink_to("lib.so")
        return {}

    key = key_of("a")
    entry = store.ensure(key, build)
    (entry.path / "link.so").unlink()
    (entry.path / "link.so").symlink_to("/etc/passwd")
    assert store.verify(key).changed == ("link.so",)


# ---------------------------------------------------------------- list, resolve, remove


def test_list_resolve_and_remove(store: Store) -> None:
    keys = sorted(store.ensure(key_of(n), writer(f=n)).key for n in "abc")
    assert [e.key for e in store.list()] == keys
    assert store.resolve(keys[0][:10]) == keys[0]
    with pytest.raises(UsageError, match="no store entry"):
        store.resolve("zzzz")
    with pytest.raises(UsageError) as ambiguous:
        store.resolve("")
    assert ambiguous.value.code in ("no-such-entry", "ambiguous-key")
    store.remove(keys[1])
    assert [e.key for e in store.list()] == [keys[0], keys[2]]
    with pytest.raises(UsageError):
        store.remove(keys[1])


def test_remove_refused_while_in_use(store: Store) -> None:
    key = store.ensure(key_of("a"), writer(f="x")).key
    with store.use(key) as entry:
        assert entry.key == key
        with pytest.raises(CmpkgError) as caught:
            store.remove(key)
        assert caught.value.code == "entry-in-use"
    store.remove(key)


# ---------------------------------------------------------------- roots and gc


def test_gc_keeps_roots_removes_the_rest(store: Store) -> None:
    keep, drop, given = (store.ensure(key_of(n), writer(f=n)).key for n in ("k", "d", "g"))
    store.add_root("project-1", [keep])
    assert store.roots() == {"project-1": (keep,)}
    dry = store.gc([given], dry_run=True)
    assert dry.removed == (drop,) and store.get(drop) is not None
    result = store.gc([given])
    assert result.removed == (drop,) and result.freed_bytes > 0
    assert store.get(drop) is None and store.get(keep) is not None and store.get(given) is not None
    assert store.remove_root("project-1") and not store.remove_root("project-1")
    assert set(store.gc().removed) == {keep, given}
    assert list((store.base / "locks").iterdir()) == []  # lock files do not pile up


def test_root_names_are_checked(store: Store) -> None:
    with pytest.raises(UsageError):
        store.add_root("../evil", [])
    with pytest.raises(CmpkgError):
        store.add_root("ok", ["not-a-key"])


def test_gc_sweeps_dead_leftovers(store: Store) -> None:
    key = key_of("a")
    tmp_dir = store.base / "tmp"
    (tmp_dir / f"{key}.dead1").mkdir(parents=True)
    (tmp_dir / "trash-x").mkdir()
    (tmp_dir / f".{key}.dead1.extract-1").mkdir()
    (tmp_dir / "foreign").mkdir()
    store.downloads_dir.mkdir(parents=True)
    (store.downloads_dir / "m.bin.partial").write_bytes(b"x")
    (store.downloads_dir / "m.bin").write_bytes(b"done")
    half = store.entry_path(key_of("b"))
    half.mkdir(parents=True)
    result = store.gc()
    names = sorted(p.name for p in result.swept)
    expected = ["m.bin.partial", f"{key}.dead1", f".{key}.dead1.extract-1", "trash-x", half.name]
    assert names == sorted(expected)
    assert sorted(p.name for p in tmp_dir.iterdir()) == ["foreign"]
    assert (store.downloads_dir / "m.bin").exists() and not half.exists()


def test_gc_on_empty_store(store: Store) -> None:
    result = store.gc()
    assert result.removed == () and result.swept == ()


def test_builds_stay_exclusive_while_gc_deletes_entries_and_lock_files(store: Store) -> None:
    import threading
    import time

    key = key_of("churn")
    active, overlaps, builds = [0], [0], [0]
    guard = threading.Lock()

    def build(tmp: Path) -> dict[str, Any]:
        with guard:
            active[0] += 1
            overlaps[0] += active[0] > 1
            builds[0] += 1
        time.sleep(0.001)
        (tmp / "f").write_text("x")
        with guard:
            active[0] -= 1
        return {}

    errors: list[BaseException] = []

    def installer() -> None:
        try:
            for _ in range(40):
                assert store.ensure(key, build).key == key
                time.sleep(0.001)
        except BaseException as error:  # threads swallow exceptions: carry them out
            errors.append(error)

    def collector() -> None:
        try:
            for _ in range(40):
                store.gc()  # deletes the entry and its lock file whenever nobody holds it
                time.sleep(0.001)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=installer) for _ in range(4)]
    threads.append(threading.Thread(target=collector))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == [] and overlaps[0] == 0 and builds[0] >= 1
