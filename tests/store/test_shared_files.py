"""Entries whose files are hard links shared with other entries and with a cache outside the
store, as a Python environment's are with uv's cache (docs/store.md, "Python environments").

A new link to a shared file, made anywhere, moves the ctime of every link of it without
changing a byte: the check must re-hash such a file once, record the verified stamp (so the
no-op fast path, `fingerprint.intact`, answers again), and still refuse and name an edit made
through any of the links, with the mtime put back.
"""

from __future__ import annotations

import os
import tarfile
import time
from pathlib import Path
from typing import Any

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.store import Entry, Store, entry_key, fingerprint, manifest, stamps
from cmpkg.store.layout import METADATA, STAT
from tests.store.test_reuse_check import writable

SHARED = "venv/lib/site-packages/torch/big.so"


def cache_file(tmp_path: Path) -> Path:
    """A file in a stand-in for uv's cache, as uv unpacks a wheel there."""
    path = tmp_path / "uv-cache" / "archive" / "big.so"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x7fELF" + bytes(range(256)) * 64)
    return path


def linked_build(source: Path, own: str) -> Any:
    def build(tmp: Path) -> dict[str, Any]:
        target = tmp / SHARED
        target.parent.mkdir(parents=True)
        os.link(source, target)  # what `uv pip install --link-mode hardlink` does
        (tmp / "venv" / "own.txt").write_text(own)
        return {}

    return build


def settled(path: Path) -> None:
    """Wait until the last change of `path`'s inode is older than the clock tick within which
    the check will not record a stamp (`fingerprint.RACY_NS`): a condition, not a delay."""
    while time.time_ns() <= path.lstat().st_ctime_ns + fingerprint.RACY_NS:
        time.sleep(0.005)


def two_entries(tmp_path: Path) -> tuple[Store, Entry, Entry, Path]:
    store, source = Store(tmp_path / "home"), cache_file(tmp_path)
    first = store.ensure(entry_key({"env": "a"}), linked_build(source, "a"), {"package": "a"})
    second = store.ensure(entry_key({"env": "b"}), linked_build(source, "b"), {"package": "b"})
    assert (first.path / SHARED).stat().st_ino == (second.path / SHARED).stat().st_ino
    return store, first, second, source


def test_a_link_elsewhere_costs_one_verified_re_stamp(tmp_path: Path) -> None:
    store, first, _second, _ = two_entries(tmp_path)
    assert not fingerprint.intact(str(first.path))  # the second link moved the ctime
    settled(first.path / SHARED)
    assert store.check(first).ok  # re-hashed: the same bytes
    assert fingerprint.intact(str(first.path))  # recorded: the no-op is fast again
    again = store.get(first.key)
    assert again is not None and store.check(again).ok
    assert again.metadata["stat"]["files"] != first.metadata["stat"]["files"]
    assert store.verify(first.key).ok


def test_a_re_stamp_is_made_while_the_entry_is_in_use(tmp_path: Path) -> None:
    store, first, _second, _ = two_entries(tmp_path)
    settled(first.path / SHARED)
    with store.hold(first.key):  # as `cmpkg run` holds every entry while the app runs
        assert store.check(first).ok
    assert fingerprint.intact(str(first.path))


def test_a_stamp_within_a_clock_tick_of_now_is_not_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, first, _second, _ = two_entries(tmp_path)
    monkeypatch.setattr(fingerprint, "RACY_NS", 3600 * 10**9)  # every stamp is "just now"
    assert store.check(first).ok  # the content is verified ...
    assert not fingerprint.intact(str(first.path))  # ... but the racy stamp not trusted


@pytest.mark.parametrize("through", ["first", "second", "cache"])
def test_an_edit_through_any_link_is_refused_in_every_entry(tmp_path: Path, through: str) -> None:
    store, first, second, source = two_entries(tmp_path)
    target = {"first": first.path / SHARED, "second": second.path / SHARED, "cache": source}
    path = target[through]
    before = path.stat()
    writable(path)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # same size
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # the mtime put back
    settled(path)
    for entry in (first, second):
        assert not fingerprint.intact(str(entry.path))
        assert store.check(entry).changed == (SHARED,)
        assert store.verify(entry.key).changed == (SHARED,)  # `cmpkg cache verify` names it
        with pytest.raises(CmpkgError) as refused:
            store.require_intact(entry)
        assert refused.value.code == "entry-modified" and SHARED in refused.value.message
        assert not fingerprint.intact(str(entry.path))  # nothing was re-stamped


def test_a_killed_re_stamp_leaves_no_added_file(tmp_path: Path) -> None:
    store, first, _second, _ = two_entries(tmp_path)
    writable(first.path)
    (first.path / f".{METADATA}.0123abcd.tmp").write_bytes(b"{half")  # its writer died
    (first.path / f".{STAT}.89abcdef.tmp").write_bytes(b"")
    first.path.chmod(0o555)
    settled(first.path / SHARED)
    assert store.check(first).ok  # the store's own debris is not part of the entry
    names = sorted(p.name for p in first.path.iterdir())
    assert names == sorted(["venv", METADATA, STAT, ".cmpkg-complete"])
    assert fingerprint.intact(str(first.path))


def test_gc_counts_a_shared_file_only_when_its_last_link_goes(tmp_path: Path) -> None:
    store, first, second, source = two_entries(tmp_path)
    size = source.stat().st_size
    with_cache = store.gc(dry_run=True).freed_bytes  # uv's cache still holds big.so
    assert 0 < with_cache < size
    source.unlink()
    assert store.gc().freed_bytes == with_cache + size  # counted once, not per entry
    assert not first.path.exists() and not second.path.exists()


def test_a_commit_reads_again_a_file_whose_stamp_moved_while_it_was_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = cache_file(tmp_path)
    real = manifest.record
    calls = []

    def racing(root: Path, rels: Any = None) -> Any:
        records = real(root, rels)
        if not calls:  # another process edits the shared file just after it was read
            calls.append(root)
            writable(source)
            source.write_bytes(b"changed while hashed")
        return records

    monkeypatch.setattr(manifest, "record", racing)
    entry = Store(tmp_path / "home").ensure(entry_key({"env": "r"}), linked_build(source, "r"))
    recorded = {f.path: f for f in entry.files}[SHARED]
    assert recorded.size == len(b"changed while hashed")  # what the final stamp vouches for
    assert Store(tmp_path / "home").verify(entry.key).ok
    assert fingerprint.intact(str(entry.path))


def test_a_build_that_keeps_changing_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = manifest.record_one
    written = []

    def churning(root: Path, rel: str) -> Any:
        path = root / rel
        writable(path)
        written.append(path)
        path.write_bytes(b"x" * (len(written) + 1))  # a process still writing into the build
        return real(root, rel)

    def build(tmp: Path) -> dict[str, Any]:
        (tmp / "log").write_text("x")
        return {}

    monkeypatch.setattr(manifest, "record", lambda root, rels=None: [churning(root, "log")])
    monkeypatch.setattr(manifest, "record_one", churning)
    with pytest.raises(CmpkgError) as refused:
        Store(tmp_path / "home").ensure(entry_key({"env": "c"}), build)
    assert refused.value.code == "entry-unsettled"
    assert len(written) == stamps.ROUNDS + 1  # read again each round, then given up


def test_a_pushed_layer_holds_a_shared_file_as_a_plain_file(tmp_path: Path) -> None:
    from cmpkg.cache.artifact import write_layer

    _store, first, _second, source = two_entries(tmp_path)
    import zstandard

    layer = tmp_path / "layer.tar.zst"
    write_layer(first.path, layer)
    with (
        layer.open("rb") as raw,
        tarfile.open(fileobj=zstandard.ZstdDecompressor().stream_reader(raw), mode="r|") as tar,
    ):
        member = next(m for m in tar if m.name == SHARED)  # a zstd layer is read as a stream
        assert member.isreg() and member.size == source.stat().st_size
        extracted = tar.extractfile(member)
        assert extracted is not None and extracted.read() == source.read_bytes()


def test_a_vouched_hash_is_taken_only_while_the_file_keeps_its_stamp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A build that hashed its files while writing them (a pull from a binary cache) hands
    the store their hashes with their stamps: the store reads none of the files whose stamp
    still holds, and reads again, and records as it is, one changed after it was vouched
    for (same size, mtime put back), whatever the writer's record claims."""
    import hashlib

    read: list[str] = []
    real = manifest.record

    def counting(root: Path, rels: Any = None) -> Any:
        read.extend(rels or [])
        return real(root, rels)

    monkeypatch.setattr(manifest, "record", counting)

    def build(tmp: Path) -> stamps.Built:
        vouched = {}
        for name in ("kept.txt", "edited.txt"):
            path = tmp / name
            path.write_bytes(b"as written")
            path.chmod(0o444)  # the frozen mode, as the extractor gives it
            info = path.lstat()
            stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
            vouched[name] = (stamp, hashlib.sha256(b"as written").hexdigest())
        edited = tmp / "edited.txt"
        before = edited.lstat()
        edited.chmod(0o644)
        edited.write_bytes(b"EDITED-10b")  # the same size, and the mtime put back:
        os.utime(edited, ns=(before.st_atime_ns, before.st_mtime_ns))
        edited.chmod(0o444)  # only its ctime tells
        return stamps.Built({"pulled": True}, vouched)

    entry = Store(tmp_path / "home").ensure(entry_key({"pulled": 1}), build)
    files = {f.path: f for f in entry.files}
    assert read == ["edited.txt"]  # the file whose stamp held was not read again
    assert files["edited.txt"].sha256 == hashlib.sha256(b"EDITED-10b").hexdigest()
    assert files["kept.txt"].sha256 == hashlib.sha256(b"as written").hexdigest()
    assert entry.build_result == {"pulled": True}
    assert Store(tmp_path / "home").verify(entry.key).ok
