"""extract(vouch=True), as a pull from a binary cache unpacks a store entry: every file is
hashed while it is written, already has its final read-only mode, and its stamp is the one
it has on disk afterwards, so the store can take the hash without reading the file again
(`cmpkg.store.stamps.recorded`). Small files are written by the writer threads, big ones by
the reading thread: both are checked."""

from __future__ import annotations

import hashlib
import os
import random
import tarfile
from pathlib import Path

import cmpkg.archive as archive_module
from cmpkg.archive import extract
from tests.support.archives import M, make_tar

BIG = random.Random(7).randbytes(archive_module._SMALL + 4096)


def _members() -> list[M]:
    return [
        M("venv/bin/tool", b"#!/bin/sh\necho hi\n", mode=0o755),
        M("venv/lib/small.py", b"VALUE = 1\n"),
        M("venv/lib/big.so", BIG),
        M("venv/lib/again.so", kind=tarfile.LNKTYPE, link="venv/lib/big.so"),
        M("venv/lib/link.py", kind=tarfile.SYMTYPE, link="small.py"),
    ]


def test_each_file_comes_with_the_hash_of_its_bytes_and_its_stamp(tmp_path: Path) -> None:
    layer = make_tar(tmp_path / "entry.tar.zst", _members(), "zst")
    dest = tmp_path / "build"
    dest.mkdir()  # the store's empty build dir: replaced whole, the stamps hold
    result = extract(layer, dest, keep_times=True, vouch=True)

    assert sorted(result.files) == ["venv/bin/tool", "venv/lib/big.so", "venv/lib/small.py"]
    for rel, (stamp, sha256) in result.files.items():
        path = dest / rel
        assert sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), rel
        info = path.lstat()
        if rel != "venv/lib/big.so":  # the hard link made after it moved its ctime
            assert stamp == (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
        assert not info.st_mode & 0o222, rel  # the store's frozen mode, before the stamp
    assert (dest / "venv/lib/again.so").read_bytes() == BIG
    assert os.access(dest / "venv/bin/tool", os.X_OK)
    assert result.size == sum(len(m.data) for m in _members())


def test_without_vouch_nothing_is_hashed_and_files_stay_writable(tmp_path: Path) -> None:
    layer = make_tar(tmp_path / "entry.tar", _members())
    result = extract(layer, tmp_path / "out")
    assert result.files == {}
    assert (tmp_path / "out/venv/lib/small.py").stat().st_mode & 0o200
