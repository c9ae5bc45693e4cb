"""The two archive formats behind `cmpkg.archive`: tar (plain, gzip, bzip2, xz or zstd) and
zip, read as one stream of `Member`s.

Owns: telling the formats apart, listing members one header at a time, refusing what a
format itself can smuggle in (devices and FIFOs, encrypted zip members, zip local headers
that disagree with the central directory or overlap) and opening a member's bytes. A tar is
read as a stream (tarfile's `r|`): each member's bytes are read right after its header, so
a compressed tar is decompressed exactly once. Corrupt compressed data, found while a
member is read, is an ArchiveError like a corrupt header.

Must not: write anything, or judge names and links: that is `cmpkg.archive`, which checks
every member this module yields before a byte is written.
"""

from __future__ import annotations

import lzma
import stat
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from cmpkg.errors import CmpkgError

_MAX_LINK_TARGET = 4096
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
#: What reading a corrupt archive raises, by format and compression (zstd's is added when
#: a zstd tar is opened: the module is imported only for one).
_READ_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    zipfile.BadZipFile,
    OSError,
    EOFError,
    zlib.error,
    lzma.LZMAError,
)
_HINT = "the archive is unsafe or corrupt; check its source and hash, or report it upstream"


class ArchiveError(CmpkgError):
    """An archive that cmpkg refuses to extract; nothing was written to the destination."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str  # normalised: relative, '/'-separated, no '.' or '..' parts
    kind: str  # "file", "dir", "symlink" or "hardlink"
    size: int
    mode: int
    target: str  # symlink target as written, or the normalised hardlink source
    ref: tarfile.TarInfo | zipfile.ZipInfo


def refuse(archive: Path, member: str, why: str, code: str = "unsafe-archive") -> ArchiveError:
    return ArchiveError(code, f"{archive.name}: member {member!r} {why}", hint=_HINT)


# ---------------------------------------------------------------------------- readers


class Chunks:
    """A member's bytes, read in chunks; a corrupt stream raises ArchiveError."""

    def __init__(
        self,
        handle: IO[bytes],
        archive: Path,
        member: Member,
        errors: tuple[type[BaseException], ...],
    ) -> None:
        self.handle, self.archive, self.member, self.errors = handle, archive, member, errors

    def read(self, size: int) -> bytes:
        try:
            return self.handle.read(size)
        except self.errors as error:
            raise refuse(
                self.archive, self.member.name, f"is unreadable: {error}", "bad-archive"
            ) from None

    def __enter__(self) -> Chunks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


class Reader:
    """What `cmpkg.archive` needs from one archive format."""

    def members(self) -> Iterator[Member]:
        raise NotImplementedError

    def open(self, member: Member) -> Chunks:
        """The bytes of `member`, the one `members()` yielded last (a tar is a stream)."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_reader(archive: Path) -> Reader:
    try:
        with archive.open("rb") as fh:
            magic = fh.read(4)
    except OSError as error:
        raise ArchiveError("bad-archive", f"cannot read {archive}: {error.strerror}") from None
    if magic[:2] == b"PK":
        return ZipReader(archive)
    return TarReader(archive, zstd=magic == ZSTD_MAGIC)


class TarReader(Reader):
    def __init__(self, archive: Path, *, zstd: bool = False) -> None:
        self.archive = archive
        self.errors = _READ_ERRORS
        self.raw: IO[bytes] | None = None
        try:
            if zstd:  # tarfile knows no zstd before Python 3.14
                import zstandard

                self.errors += (zstandard.ZstdError,)
                self.raw = archive.open("rb")
                stream = zstandard.ZstdDecompressor().stream_reader(self.raw)
                self.tar = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115
            else:
                self.tar = tarfile.open(archive, "r|*")  # noqa: SIM115 (closed by close())
        except self.errors as error:
            self.close()
            raise ArchiveError(
                "bad-archive", f"{archive.name} is not a readable tar or zip archive: {error}"
            ) from None

    def members(self) -> Iterator[Member]:
        # next() one header at a time, so a bomb is stopped at its first oversized header
        # instead of after decompressing everything to list the members.
        while True:
            try:
                info = self.tar.next()
            except self.errors as error:
                raise ArchiveError("bad-archive", f"{self.archive.name}: {error}") from None
            if info is None:
                return
            yield self._member(info)

    def _member(self, info: tarfile.TarInfo) -> Member:
        name = info.name
        if info.isreg():
            return Member(name, "file", info.size, info.mode, "", info)
        if info.isdir():
            return Member(name, "dir", 0, info.mode, "", info)
        if info.issym():
            return Member(name, "symlink", 0, 0o777, info.linkname, info)
        if info.islnk():
            return Member(name, "hardlink", 0, info.mode, info.linkname, info)
        kind = {tarfile.CHRTYPE: "character device", tarfile.BLKTYPE: "block device"}
        what = kind.get(info.type, "FIFO" if info.isfifo() else f"of tar type {info.type!r}")
        raise refuse(self.archive, name, f"is a {what}; only files, dirs and links are allowed")

    def open(self, member: Member) -> Chunks:
        assert isinstance(member.ref, tarfile.TarInfo)
        handle = self.tar.extractfile(member.ref)
        assert handle is not None
        return Chunks(handle, self.archive, member, self.errors)

    def close(self) -> None:
        if hasattr(self, "tar"):
            self.tar.close()
        if self.raw is not None:
            self.raw.close()


_LOCAL_HEADER = struct.Struct("<4s5H3L2H")


class ZipReader(Reader):
    def __init__(self, archive: Path) -> None:
        self.archive = archive
        try:
            self.zip = zipfile.ZipFile(archive)
        except (zipfile.BadZipFile, OSError, EOFError) as error:
            raise ArchiveError("bad-archive", f"{archive.name}: {error}") from None

    def members(self) -> Iterator[Member]:
        infos = self.zip.infolist()
        self._check_layout(infos)
        for info in infos:
            yield self._member(info)

    def _member(self, info: zipfile.ZipInfo) -> Member:
        name, mode = info.orig_filename, info.external_attr >> 16
        if info.flag_bits & 0x1:
            raise refuse(self.archive, name, "is encrypted")
        if stat.S_ISLNK(mode):
            return Member(name, "symlink", 0, 0o777, self._link_target(info), info)
        if info.is_dir() or stat.S_ISDIR(mode):
            return Member(name, "dir", 0, mode or 0o755, "", info)
        if stat.S_IFMT(mode) and not stat.S_ISREG(mode):  # no type bits: a plain file
            raise refuse(self.archive, name, "is a device, FIFO or socket")
        return Member(name, "file", info.file_size, (mode & 0o777) or 0o644, "", info)

    def _link_target(self, info: zipfile.ZipInfo) -> str:
        if info.file_size > _MAX_LINK_TARGET:
            raise refuse(self.archive, info.orig_filename, "is a symlink with a huge target")
        with self.zip.open(info) as fh:
            return fh.read(_MAX_LINK_TARGET + 1).decode("utf-8", "replace")

    def _check_layout(self, infos: list[zipfile.ZipInfo]) -> None:
        """Local headers must agree with the central directory and must not overlap."""
        end_of_previous = 0
        with self.archive.open("rb") as fh:
            for info in sorted(infos, key=lambda i: i.header_offset):
                if info.header_offset < end_of_previous:
                    raise refuse(self.archive, info.orig_filename, "overlaps another member")
                end_of_previous = self._check_local_header(fh, info)
        if end_of_previous > self.zip.start_dir:
            raise ArchiveError("unsafe-archive", f"{self.archive.name}: data overlaps directory")

    def _check_local_header(self, fh: IO[bytes], info: zipfile.ZipInfo) -> int:
        fh.seek(info.header_offset)
        raw = fh.read(_LOCAL_HEADER.size)
        if len(raw) != _LOCAL_HEADER.size:
            raise refuse(self.archive, info.orig_filename, "has a truncated local header")
        sig, _, flags, method, _, _, crc, csize, usize, name_len, extra_len = _LOCAL_HEADER.unpack(
            raw
        )
        encoding = "utf-8" if flags & 0x800 else "cp437"
        local_name = fh.read(name_len).decode(encoding, "replace")
        disagree = sig != b"PK\x03\x04" or local_name != info.orig_filename
        disagree = disagree or method != info.compress_type
        if not flags & 0x08 and 0xFFFFFFFF not in (csize, usize):
            disagree = disagree or (crc, csize, usize) != (
                info.CRC,
                info.compress_size,
                info.file_size,
            )
        if disagree:
            why = f"has a local header ({local_name!r}) that disagrees with the central directory"
            raise refuse(self.archive, info.orig_filename, why)
        data_start = info.header_offset + _LOCAL_HEADER.size + int(name_len) + int(extra_len)
        return data_start + info.compress_size

    def open(self, member: Member) -> Chunks:
        assert isinstance(member.ref, zipfile.ZipInfo)
        return Chunks(self.zip.open(member.ref), self.archive, member, _READ_ERRORS)

    def close(self) -> None:
        self.zip.close()


# ---------------------------------------------------------------------------- validation
