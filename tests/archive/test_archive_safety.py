"""archive.extract(): every malicious archive is refused with nothing written outside
(RELIABILITY.md B 7-14). The archives are built here, member by member."""

from __future__ import annotations

import os
import random
import stat
import struct
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from cmpkg.archive import ArchiveError, check_relative_path, extract
from cmpkg.errors import UsageError
from tests.support.archives import M, make_tar, make_zip, tree

SYM, LNK = tarfile.SYMTYPE, tarfile.LNKTYPE


def tar(*members: M, compression: str = "") -> Callable[[Path], Path]:
    return lambda d: make_tar(d / f"a.tar.{compression or 'x'}", list(members), compression)


def zip_(
    *members: tuple[str, bytes], links: dict[str, str] | None = None
) -> Callable[[Path], Path]:
    return lambda d: make_zip(d / "a.zip", list(members), links)


def zip_local_name_differs(d: Path) -> Path:
    path = make_zip(d / "a.zip", [("good.txt", b"hello")])
    raw = bytearray(path.read_bytes())
    at = raw.index(b"good.txt")  # the first occurrence is the local header's
    raw[at : at + 8] = b"evil.txt"
    path.write_bytes(bytes(raw))
    return path


def zip_local_size_differs(d: Path) -> Path:
    path = make_zip(d / "a.zip", [("good.txt", b"hello" * 100)])
    raw = bytearray(path.read_bytes())
    raw[22:26] = struct.pack("<L", 10**6)  # local header's uncompressed size
    path.write_bytes(bytes(raw))
    return path


def zip_duplicate(d: Path) -> Path:
    path = d / "a.zip"
    with zipfile.ZipFile(path, "w") as archive, pytest.warns(UserWarning):
        archive.writestr("same.txt", b"one")
        archive.writestr("same.txt", b"two")
    return path


def zip_fifo(d: Path) -> Path:
    path = d / "a.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("pipe")
        info.external_attr = (stat.S_IFIFO | 0o644) << 16
        archive.writestr(info, b"")
    return path


def zip_bomb(d: Path) -> Path:
    return make_zip(d / "a.zip", [("zeros", bytes(20_000_000))])


def tar_bomb(d: Path) -> Path:
    return make_tar(d / "a.tar.gz", [M("zeros", bytes(20_000_000))], "gz")


def tar_big(d: Path, compression: str) -> Path:
    """Two members of random bytes: a corrupt stream shows only while reading the data."""
    data = random.Random(7).randbytes(300_000)
    return make_tar(d / f"a.tar.{compression}", [M("a", data), M("b", data)], compression)


def truncated(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path


def tar_many(d: Path) -> Path:
    return make_tar(d / "a.tar", [M(f"f{i}", b"") for i in range(50)])


# Each case: (id, builder, words expected in the error). Limits: 50 members max is below.
MALICIOUS: list[tuple[str, Callable[[Path], Path], str]] = [
    ("dotdot", tar(M("../x", b"pwned")), "'..'"),
    ("dotdot-deep", tar(M("a/b/../../../x", b"pwned")), "'..'"),
    ("absolute", tar(M("/tmp/cmpkg-test-abs", b"pwned")), "absolute"),
    ("drive-letter", tar(M("C:/x", b"pwned")), "absolute"),
    ("drive-relative", tar(M("C:x", b"pwned")), "absolute"),
    ("backslash-dotdot", tar(M("..\\x", b"pwned")), "backslash"),
    ("backslash-abs", tar(M("\\x", b"pwned")), "backslash"),
    ("symlink-abs", tar(M("l", kind=SYM, link="/etc/passwd")), "outside"),
    ("symlink-dotdot", tar(M("d/l", kind=SYM, link="../../x")), "outside"),
    ("symlink-chain", tar(M("l", kind=SYM, link="."), M("esc", kind=SYM, link="l/..")), "outside"),
    (
        "write-through-symlink",
        tar(M("l", kind=SYM, link="d"), M("d/", kind=tarfile.DIRTYPE), M("l/f", b"pwned")),
        "through",
    ),
    ("symlink-then-file", tar(M("l", kind=SYM, link="../out"), M("l/f", b"pwned")), "outside"),
    ("symlink-replaces-file", tar(M("f", b"data"), M("f", kind=SYM, link="/etc")), "twice"),
    ("duplicate-file-then-link", tar(M("f", b"a"), M("f", kind=SYM, link="g")), "twice"),
    ("link-over-implicit-dir", tar(M("d/f", b"a"), M("d", kind=SYM, link="/tmp")), "twice"),
    ("link-over-implicit-dir-in", tar(M("d/f", b"a"), M("d", kind=SYM, link="e")), "twice"),
    ("hardlink-abs", tar(M("h", kind=LNK, link="/etc/passwd")), "hardlink"),
    ("hardlink-dotdot", tar(M("h", kind=LNK, link="../x")), "hardlink"),
    ("hardlink-missing", tar(M("h", kind=LNK, link="nothere")), "hardlink"),
    ("hardlink-to-later", tar(M("h", kind=LNK, link="f"), M("f", b"x")), "hardlink"),
    (
        "hardlink-to-symlink",
        tar(M("l", kind=SYM, link="x"), M("h", kind=LNK, link="l")),
        "hardlink",
    ),
    ("chardev", tar(M("dev", kind=tarfile.CHRTYPE)), "character device"),
    ("blockdev", tar(M("dev", kind=tarfile.BLKTYPE)), "block device"),
    ("fifo", tar(M("p", kind=tarfile.FIFOTYPE)), "FIFO"),
    ("marker", tar(M(".cmpkg-complete", b"k")), "reserved"),
    ("metadata", tar(M("cmpkg-entry.json", b"{}")), "reserved"),
    ("marker-nested", tar(M("sub/.cmpkg-complete", b"k")), "reserved"),
    ("lockname", tar(M(".cmpkg-lock", b"")), "reserved"),
    ("marker-gz", tar(M(".cmpkg-complete", b"k"), compression="gz"), "reserved"),
    ("dotdot-bz2", tar(M("../x", b"pwned"), compression="bz2"), "'..'"),
    ("dotdot-xz", tar(M("../x", b"pwned"), compression="xz"), "'..'"),
    ("dotdot-zst", tar(M("../x", b"pwned"), compression="zst"), "'..'"),
    (
        "write-through-symlink-zst",
        tar(M("l", kind=SYM, link="."), M("l/f", b"pwned"), compression="zst"),
        "through",
    ),
    ("truncated-gz", lambda d: truncated(tar_big(d, "gz")), "unreadable"),
    ("truncated-zst", lambda d: truncated(tar_big(d, "zst")), "unreadable"),
    ("bomb-ratio-tar-gz", tar_bomb, "bomb"),
    ("bomb-ratio-zip", zip_bomb, "bomb"),
    ("bomb-members", tar_many, "members"),
    ("zip-dotdot", zip_(("../x", b"pwned")), "'..'"),
    ("zip-absolute", zip_(("/x", b"pwned")), "absolute"),
    ("zip-backslash", zip_(("..\\..\\x", b"pwned")), "backslash"),
    ("zip-symlink-out", zip_(links={"l": "../../etc"}), "outside"),
    ("zip-symlink-abs", zip_(links={"l": "/etc/passwd"}), "outside"),
    ("zip-write-through-link", zip_(("l/f", b"x"), links={"l": "d"}), "twice"),
    ("zip-local-name-differs", zip_local_name_differs, "disagrees"),
    ("zip-local-size-differs", zip_local_size_differs, "disagrees"),
    ("zip-duplicate", zip_duplicate, "twice"),
    ("zip-fifo", zip_fifo, "FIFO"),
    ("zip-marker", zip_((".cmpkg-complete", b"k")), "reserved"),
]


@pytest.fixture
def sandbox(tmp_path: Path) -> Path:
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "canary").write_bytes(b"canary")
    (tmp_path / "src").mkdir()
    (tmp_path / "work").mkdir()
    return tmp_path


@pytest.mark.parametrize(("case", "build", "words"), MALICIOUS, ids=[c[0] for c in MALICIOUS])
def test_malicious_archive_refused_nothing_written(
    sandbox: Path, case: str, build: Callable[[Path], Path], words: str
) -> None:
    archive = build(sandbox / "src")
    before = tree(sandbox)
    with pytest.raises(ArchiveError) as caught:
        extract(archive, sandbox / "work" / "dest", max_members=40, max_ratio=100)
    assert words in caught.value.message, caught.value.message
    assert caught.value.hint
    assert tree(sandbox) == before  # no dest, no temp dir, nothing outside
    assert not Path("/tmp/cmpkg-test-abs").exists()


def test_figure_malicious_archives() -> None:
    # docs/store.md reports this count: every case above is refused with 0 bytes outside.
    assert len(MALICIOUS) >= 40


# ---------------------------------------------------------------- good archives


@pytest.mark.parametrize("compression", ["", "gz", "bz2", "xz", "zst"])
def test_tar_extracts(tmp_path: Path, compression: str) -> None:
    archive = make_tar(
        tmp_path / "ok.tar",
        [
            M("./pkg/", kind=tarfile.DIRTYPE, mode=0o755),
            M("pkg/bin/tool", b"#!/bin/sh\n", mode=0o755),
            M("pkg/lib/a.so", b"\x7fELF"),
            M("pkg/lib/b.so", kind=SYM, link="a.so"),
            M("pkg/lib/c.so", kind=LNK, link="pkg/lib/a.so"),
            M("pkg/up", kind=SYM, link="../pkg/lib"),
        ],
        compression,
    )
    result = extract(archive, tmp_path / "out")
    out = tmp_path / "out"
    assert (out / "pkg/bin/tool").read_bytes() == b"#!/bin/sh\n"
    assert os.access(out / "pkg/bin/tool", os.X_OK)
    assert (out / "pkg/lib/b.so").readlink() == Path("a.so")
    assert (out / "pkg/lib/c.so").read_bytes() == b"\x7fELF"
    assert result.members == 6 and result.size == 14
    assert [p.name for p in tmp_path.iterdir() if ".extract-" in p.name] == []


def test_zip_extracts_with_internal_symlink(tmp_path: Path) -> None:
    archive = make_zip(tmp_path / "ok.zip", [("d/a.txt", b"A"), ("d/", b"")], {"d/b": "a.txt"})
    extract(archive, tmp_path / "out")
    assert (tmp_path / "out/d/b").read_bytes() == b"A"


def test_dangerous_mode_bits_stripped(tmp_path: Path) -> None:
    archive = make_tar(
        tmp_path / "m.tar",
        [M("suid", b"x", mode=0o4755), M("sgid", b"x", mode=0o2755), M("ww", b"x", mode=0o666),
         M("d/", kind=tarfile.DIRTYPE, mode=0o1777)],
    )  # fmt: skip
    extract(archive, tmp_path / "out")
    for name in ("suid", "sgid", "ww", "d"):
        mode = (tmp_path / "out" / name).stat().st_mode
        assert not mode & (stat.S_ISUID | stat.S_ISGID | stat.S_ISVTX | stat.S_IWOTH), name
    assert (tmp_path / "out/suid").stat().st_mode & 0o777 == 0o755


def test_total_size_cap(tmp_path: Path) -> None:
    archive = make_tar(tmp_path / "big.tar", [M("a", b"x" * 5000), M("b", b"y" * 5000)])
    with pytest.raises(ArchiveError, match="more than 8000 bytes") as caught:
        extract(archive, tmp_path / "out", max_total_size=8000)
    assert caught.value.code == "archive-too-large"
    assert not (tmp_path / "out").exists()


def test_several_archives_into_one_dir_but_no_overwrite(tmp_path: Path) -> None:
    first = make_tar(tmp_path / "a.tar", [M("a/x", b"1")])
    second = make_zip(tmp_path / "b.zip", [("b/y", b"2")])
    (tmp_path / "out").mkdir()
    extract(first, tmp_path / "out")
    extract(second, tmp_path / "out")
    assert tree(tmp_path / "out") == {"a": "dir", "a/x": b"1", "b": "dir", "b/y": b"2"}
    with pytest.raises(ArchiveError) as caught:
        extract(first, tmp_path / "out")
    assert caught.value.code == "extract-collision"
    assert tree(tmp_path / "out")["a/x"] == b"1"
    assert [p.name for p in tmp_path.iterdir() if "extract" in p.name] == []
    (tmp_path / "file").write_text("x")
    with pytest.raises(ArchiveError, match="not a directory"):
        extract(first, tmp_path / "file")


def test_not_an_archive(tmp_path: Path) -> None:
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"\x1f\x8bnot really gzip" * 10)
    with pytest.raises(ArchiveError) as caught:
        extract(junk, tmp_path / "out")
    assert caught.value.code == "bad-archive"
    assert not (tmp_path / "out").exists()


def test_interrupt_while_writing_removes_temp_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import cmpkg.archive as archive_module

    archive = make_tar(tmp_path / "a.tar", [M("a", b"x"), M("b", b"y")])

    def interrupted(*args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(archive_module, "_write_file", interrupted)
    with pytest.raises(KeyboardInterrupt):
        extract(archive, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.tar"]


# ---------------------------------------------------------------- recipe path fields


@pytest.mark.parametrize(
    "path", ["../x", "a/../../x", "/usr/bin", "C:/x", "C:x", "a\\b", "a\x00b", "", ".", "./"]
)
def test_check_relative_path_refuses(path: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_relative_path(path, "packages.foo.bin")
    assert caught.value.code == "unsafe-path"
    assert "packages.foo.bin" in caught.value.message


@pytest.mark.parametrize(("path", "normal"), [("bin/tool", "bin/tool"), ("./lib//x", "lib/x")])
def test_check_relative_path_accepts(path: str, normal: str) -> None:
    assert check_relative_path(path, "bin") == normal
