"""Safe extraction of untrusted archives (tar, tar.gz/bz2/xz, zip) and path checks.

Owns: refusing every member that could write outside the destination or smuggle something
in (path traversal, absolute names, links out of the tree, reserved store names, bombs), and
writing the rest into a temp dir that is renamed onto the destination only when everything
succeeded. Reading the two formats, and refusing what a format itself can smuggle in
(devices, zip header tricks), is `cmpkg.archive_formats`.

Must not: trust `tarfile`'s or `zipfile`'s own extraction (we never call `extract*`: every
byte is written by this module, with O_NOFOLLOW and counted), follow a symlink while writing,
or leave anything behind on failure. It knows nothing about recipes or the store beyond the
reserved names in `cmpkg.store.layout`.
"""

# os.path on str paths while writing: a venv layer has thousands of members, and pathlib
# costs per path (the extraction profile in docs/benchmarks.md).
# ruff: noqa: PTH101, PTH102, PTH118

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import posixpath
import re
import shutil
import stat
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.archive_formats import ArchiveError, Member, Reader, open_reader, refuse
from cmpkg.errors import UsageError
from cmpkg.store.layout import RESERVED_NAMES

DEFAULT_MAX_TOTAL_SIZE = 256 * 1024**3  # models and datasets are big; bombs are bigger
DEFAULT_MAX_MEMBERS = 1_000_000
DEFAULT_MAX_RATIO = 200.0  # real tarballs of text compress ~10x; bombs reach 1000x+
_CHUNK = 1024 * 1024
#: Files up to this size are read from the stream, then written by one of `_WRITERS`
#: threads while the stream is read on, `_BATCH` at a time; at most `_IN_FLIGHT` batches
#: wait to be written (at most 40 MiB of bytes held).
_SMALL = 256 * 1024
_WRITERS = 2
_BATCH = 32
_IN_FLIGHT = 4
_DRIVE = re.compile(r"^[A-Za-z]:")

__all__ = ["ArchiveError", "Extracted", "Limits", "check_relative_path", "extract"]


@dataclass(frozen=True, slots=True)
class Limits:
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE
    max_members: int = DEFAULT_MAX_MEMBERS
    max_ratio: float = DEFAULT_MAX_RATIO


#: A file as the extractor wrote it: its stamp when closed, `(size, mtime_ns, ctime_ns,
#: inode)` (`cmpkg.store.fingerprint`'s), and the sha256 of the bytes written to it.
Written = tuple[tuple[int, int, int, int], str]


@dataclass(frozen=True, slots=True)
class Extracted:
    path: Path
    members: int
    size: int
    #: With `vouch`: every regular file written, by its path relative to the destination.
    files: dict[str, Written]


# ---------------------------------------------------------------------------- path checks


def check_relative_path(path: str, field: str) -> str:
    """`path` normalised, if it stays inside its root; else UsageError naming `field`.

    For recipe fields that name output paths (`bin`, env paths): refuses empty paths,
    absolute paths, drive letters, backslashes, NUL and any `..` part.
    """
    problem = _path_problem(path)
    if problem is None and not _normalise(path):
        problem = "is empty"
    if problem is not None:
        raise UsageError(
            "unsafe-path",
            f"{field}: {path!r} {problem}",
            hint="output paths must be relative to the entry and must not contain '..'",
        )
    return _normalise(path)


def _path_problem(name: str) -> str | None:
    """Why `name` cannot be a member path inside the destination, or None."""
    if "\x00" in name:
        return "contains a NUL byte"
    if "\\" in name:
        return "contains a backslash"
    if name.startswith("/") or _DRIVE.match(name):
        return "is an absolute path"
    if ".." in name.split("/"):
        return "contains a '..' part"
    return None


def _normalise(name: str) -> str:
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def _link_escapes(link_name: str, target: str) -> str | None:
    """Why the symlink `link_name -> target` could point outside the tree, or None."""
    if not target:
        return "has an empty target"
    outside = f"points to {target!r}, outside the archive"
    if "\x00" in target or "\\" in target or target.startswith("/") or _DRIVE.match(target):
        return outside
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(link_name), target))
    if resolved == ".." or resolved.startswith("../"):
        return outside
    return None


# ---------------------------------------------------------------------------- entry point


def extract(
    archive: Path,
    dest: Path,
    *,
    max_total_size: int = DEFAULT_MAX_TOTAL_SIZE,
    max_members: int = DEFAULT_MAX_MEMBERS,
    max_ratio: float = DEFAULT_MAX_RATIO,
    keep_times: bool = False,
    vouch: bool = False,
) -> Extracted:
    """Extract `archive` into `dest`, or raise ArchiveError.

    The archive is read once, as a stream: each member is validated (against every member
    before it) before a byte of it is written, and again while writing; the bytes go to a
    private temp dir beside `dest`, renamed onto it only when the whole archive passed.
    If `dest` already exists, the archive's top-level names are moved into it, and any name
    already there is refused before anything moves. On any error the temp dir is removed
    and `dest` is as before. `keep_times` gives files their recorded mtimes (a cache layer:
    bytecode is valid only while its source keeps the mtime it was compiled against).

    `vouch` (a store entry being pulled) hashes each file's bytes as they are written and
    gives the file its final, read-only mode (the store's frozen one) before its stamp is
    taken, so the store can record the hash without reading the file again as long as that
    stamp still holds at commit (`Extracted.files`; `cmpkg.store.stamps.recorded`). A file
    moved into an existing `dest` gets a new ctime there, so the store re-reads it.
    """
    limits = Limits(max_total_size, max_members, max_ratio)
    archive, dest = Path(archive), Path(dest)
    if dest.is_symlink() or (dest.exists() and not dest.is_dir()):
        raise ArchiveError("extract-dest-exists", f"{dest} exists and is not a directory")
    dest.parent.mkdir(parents=True, exist_ok=True)
    with open_reader(archive) as reader:
        tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extract-", dir=dest.parent))
        writer = _Writer(archive, str(tmp), limits, keep_times, vouch)
        try:
            try:
                writer.write_all(reader)
            finally:
                writer.pool.close()  # no writer thread may outlive this: the dir goes next
            _commit(tmp, dest)
        except BaseException:
            # Also on Ctrl-C: a half-extracted tree must never be left for someone to use.
            shutil.rmtree(tmp, ignore_errors=True)
            raise
    return Extracted(dest, writer.count, writer.written, writer.files)


def _commit(tmp: Path, dest: Path) -> None:
    """Rename the extracted tree onto `dest`, or move its top-level names into `dest`."""
    tmp.chmod(0o755)
    if not dest.exists():
        tmp.rename(dest)
        return
    if not any(dest.iterdir()):
        # An empty dest (a store build dir) is replaced whole, so the files keep the
        # ctimes their stamps were taken with (moving a name into dest changes its ctime).
        with contextlib.suppress(OSError):  # filled meanwhile: the names are moved below
            tmp.rename(dest)
            return
    names = sorted(p.name for p in tmp.iterdir())
    # Several archives may be unpacked into one build dir: they must not overwrite each other.
    clashes = [n for n in names if (dest / n).exists() or (dest / n).is_symlink()]
    if clashes:
        raise ArchiveError(
            "extract-collision",
            f"extracting into {dest} would overwrite {', '.join(clashes[:5])}",
            hint="two sources of one recipe unpack to the same path; give them distinct dirs",
        )
    for name in names:
        (tmp / name).rename(dest / name)
    tmp.rmdir()


# ---------------------------------------------------------------------------- validation


class _Checker:
    """Every rule a member must pass, judged against the members before it (`seen`): that
    is all any rule needs, so members are checked one at a time as the stream goes by."""

    def __init__(self, archive: Path, limits: Limits) -> None:
        self.archive, self.limits = archive, limits
        self.archive_size = max(archive.stat().st_size, 1)
        self.seen: dict[str, str] = {}  # normalised name -> kind
        self.members = 0
        self.declared = 0

    def check(self, raw: Member) -> Member | None:
        """The member, validated and normalised; None for the archive's root itself."""
        self.members += 1
        if self.members > self.limits.max_members:
            raise _bomb(self.archive, f"has more than {self.limits.max_members} members")
        member = _check_member(raw, self.archive, self.seen)
        self.declared += member.size
        _check_size(self.archive, self.declared, self.archive_size, self.limits)
        if not member.name:
            return None
        _remember(self.seen, member)
        return member


def _remember(seen: dict[str, str], member: Member) -> None:
    # Implicit parents count as directories, so a later link cannot take their name.
    parts = member.name.split("/")
    for depth in range(1, len(parts)):
        seen.setdefault("/".join(parts[:depth]), "dir")
    seen[member.name] = member.kind


def _check_size(archive: Path, total: int, archive_size: int, limits: Limits) -> None:
    if total > limits.max_total_size:
        raise _bomb(archive, f"expands to more than {limits.max_total_size} bytes")
    if total / archive_size > limits.max_ratio:
        raise _bomb(archive, f"expands more than {limits.max_ratio:g} times its size")


def _bomb(archive: Path, why: str) -> ArchiveError:
    return ArchiveError(
        "archive-too-large",
        f"{archive.name} {why} (a decompression bomb?)",
        hint="if the archive is genuine, raise the extraction limits for this recipe",
    )


def _check_member(member: Member, archive: Path, seen: dict[str, str]) -> Member:
    problem = _path_problem(member.name)
    if problem is not None:
        raise refuse(archive, member.name, problem)
    name = _normalise(member.name)
    if not name and member.kind != "dir":
        raise refuse(archive, member.name, "has an empty name")
    if posixpath.basename(name) in RESERVED_NAMES:
        raise refuse(archive, member.name, "uses a name reserved for cmpkg's store")
    _check_parents(archive, name, seen)
    if name in seen and (member.kind != "dir" or seen[name] != "dir"):
        raise refuse(archive, member.name, "appears twice in the archive")
    target = _check_link(member, name, archive, seen)
    return Member(name, member.kind, member.size, member.mode, target, member.ref)


def _check_parents(archive: Path, name: str, seen: dict[str, str]) -> None:
    parts = name.split("/")
    for depth in range(1, len(parts)):
        kind = seen.get("/".join(parts[:depth]))
        if kind is not None and kind != "dir":
            raise refuse(archive, name, f"would be written through a {kind}")


def _check_link(member: Member, name: str, archive: Path, seen: dict[str, str]) -> str:
    if member.kind == "symlink":
        problem = _link_escapes(name, member.target)
        if problem is not None:
            raise refuse(archive, member.name, f"is a symlink that {problem}")
        return member.target
    if member.kind == "hardlink":
        source_problem = _path_problem(member.target)
        source = _normalise(member.target)
        if source_problem is not None or seen.get(source) != "file":
            why = f"is a hardlink to {member.target!r}, which is not a file earlier in the archive"
            raise refuse(archive, member.name, why)
        return source
    return ""


# ---------------------------------------------------------------------------- writing


class _Writer:
    """Writes checked members into the private temp dir `tmp`, one pass over the archive.

    Why one pass is as safe as validating everything first: nothing is visible until the
    whole archive passed (the temp dir is renamed onto the destination last, removed on any
    error), and no member can be written through another: symlinks are made only after
    every file and directory, so while files are written the tree holds nothing but
    directories this writer made, files it wrote (O_EXCL, O_NOFOLLOW) and hard links to
    those. That is also why a directory, once made or found, is not looked at again.

    Small files are written by `_Pool`'s threads (creating a file is kernel time, most of
    a venv's unpacking, and runs beside the Python that parses the next headers); their
    bytes are read and counted against the limits here, in stream order. Every pending
    write is finished before anything depends on it: a hard link to the file, the
    symlinks, the directory modes.
    """

    def __init__(
        self, archive: Path, tmp: str, limits: Limits, keep_times: bool, vouch: bool
    ) -> None:
        self.archive, self.tmp, self.limits, self.keep_times = archive, tmp, limits, keep_times
        self.vouch = vouch
        self.files: dict[str, Written] = {}
        self.checker = _Checker(archive, limits)
        self.made: set[str] = {""}  # relative directories known to be real directories
        self.dirs: list[tuple[str, int]] = []
        self.symlinks: list[Member] = []
        self.count = 0
        self.written = 0
        self.pool = _Pool()

    def write_all(self, reader: Reader) -> None:
        for raw in reader.members():
            member = self.checker.check(raw)
            if member is not None:
                self.count += 1
                self._write(reader, member)
        self._finish_writes()
        # Symlinks last, so no file above can have been written through one.
        for member in self.symlinks:
            _make_symlink(Path(self.tmp), member, self.archive)
        for path, mode in reversed(self.dirs):  # modes last: a 0o555 dir would block writes
            os.chmod(path, _safe_mode(mode) | 0o700)

    def _write(self, reader: Reader, member: Member) -> None:
        self._make_parents(member.name)
        if member.kind == "symlink":
            self.symlinks.append(member)
            return
        path = os.path.join(self.tmp, member.name)
        if member.kind == "dir":
            if member.name not in self.made:
                _make_dir(path, self.archive, member)
                self.made.add(member.name)
            self.dirs.append((path, member.mode))
        elif member.kind == "file":
            self._write_file(reader, member, path)
        elif member.kind == "hardlink":
            self._finish_writes()  # its source may still be pending
            os.link(os.path.join(self.tmp, member.target), path, follow_symlinks=False)

    def _write_file(self, reader: Reader, member: Member, path: str) -> None:
        budget = self.limits.max_total_size - self.written
        how = _How(self.keep_times, self.vouch)
        if member.size > _SMALL:
            self._wrote(member, _write_file(reader, member, path, self.archive, budget, how))
            return
        with reader.open(member) as src:
            data = _read_counted(src, member, self.archive, budget)
        self.written += len(data)  # counted now, in stream order: the limits hold as before
        args = (_One(data), member, path, self.archive, budget, how)
        self.pool.submit(member, _write_file, *args)

    def _wrote(self, member: Member, written: Written) -> None:
        self.written += written[0][0]
        if self.vouch:
            self.files[member.name] = written

    def _finish_writes(self) -> None:
        for member, written in self.pool.finish():
            if self.vouch:
                self.files[member.name] = written

    def _make_parents(self, name: str) -> None:
        parent = posixpath.dirname(name)
        if parent in self.made:
            return
        self._make_parents(parent)
        path = os.path.join(self.tmp, parent)
        try:
            os.mkdir(path, 0o755)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(path).st_mode):
                raise refuse(self.archive, name, "would be written through a link") from None
        self.made.add(parent)


@dataclass(frozen=True, slots=True)
class _How:
    keep_times: bool  # the member's recorded mtime
    vouch: bool  # hashed while written, final read-only mode


def _safe_mode(mode: int) -> int:
    """Permission bits without setuid/setgid/sticky or world-writable, owner always rw."""
    return (mode & 0o777 & ~0o002) | 0o600


def _make_dir(path: str, archive: Path, member: Member) -> None:
    try:
        os.mkdir(path, 0o755)
    except FileExistsError:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            raise refuse(archive, member.name, "replaces a non-directory") from None


class _Pool:
    """A few threads writing small files, in the order given, `_BATCH` files per task (a
    future per file cost about as much as writing it), with a bound on the tasks that
    wait (each holds its files' bytes); `finish` waits for all of them and raises the
    first error, `close` also drops what has not started."""

    def __init__(self) -> None:
        self.executor: ThreadPoolExecutor | None = None
        self.slots = threading.BoundedSemaphore(_IN_FLIGHT)
        self.batch: list[tuple[Member, Any, tuple[Any, ...]]] = []
        self.pending: list[Future[list[tuple[Member, Written]]]] = []

    def submit(self, member: Member, write: Any, *args: Any) -> None:
        self.batch.append((member, write, args))
        if len(self.batch) >= _BATCH:
            self._send()

    def _send(self) -> None:
        if not self.batch:
            return
        if self.executor is None:  # made on the first batch: most archives have one
            self.executor = ThreadPoolExecutor(_WRITERS, thread_name_prefix="unpack")
        batch, self.batch = self.batch, []
        self.slots.acquire()

        def run() -> list[tuple[Member, Written]]:
            try:
                return [(member, write(*args)) for member, write, args in batch]
            finally:
                self.slots.release()

        self.pending.append(self.executor.submit(run))

    def finish(self) -> list[tuple[Member, Written]]:
        self._send()
        pending, self.pending = self.pending, []
        return [done for future in pending for done in future.result()]

    def close(self) -> None:
        self.batch = []
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)


class _One:
    """`Reader.open(member)` of the one member whose bytes are already read (and counted)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def open(self, _member: Member) -> io.BytesIO:
        return io.BytesIO(self.data)


def _read_counted(src: Any, member: Member, archive: Path, budget: int) -> bytes:
    """A small member's bytes, checked as `_write_file` checks them while writing."""
    chunks, size = [], 0
    while chunk := src.read(_CHUNK):
        size += len(chunk)
        _check_count(size, member, archive, budget)
        chunks.append(chunk)
    return b"".join(chunks)


def _check_count(written: int, member: Member, archive: Path, budget: int) -> None:
    # The declared size may lie (zip): count what really comes out.
    if written > member.size:
        raise refuse(archive, member.name, "holds more bytes than its header declares")
    if written > budget:
        raise _bomb(archive, "expands past the total size limit while extracting")


def _write_file(
    reader: Reader | _One, member: Member, path: str, archive: Path, budget: int, how: _How
) -> Written:
    """Write one member's bytes to a new file at `path` (unbuffered: each chunk is one
    write(2), so the stamp taken before closing covers every byte): its stamp and, with
    `how.vouch`, the sha256 of exactly the bytes written."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    mode = _safe_mode(member.mode) & ~(0o222 if how.vouch else 0)
    fd = os.open(path, flags, mode)  # writable through fd whatever the mode says
    digest = hashlib.sha256() if how.vouch else None
    written = 0
    try:
        with reader.open(member) as src:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                _check_count(written, member, archive, budget)
                if digest is not None:
                    digest.update(chunk)
                _write_all(fd, chunk)
        mtime = getattr(member.ref, "mtime", None)
        if how.keep_times and isinstance(mtime, (int, float)):
            os.utime(fd, (mtime, mtime))
        info = os.fstat(fd)  # after the last change: chmod and utime move the ctime
        if stat.S_IMODE(info.st_mode) != mode:  # the umask took bits: exact ones, then
            os.fchmod(fd, mode)
            info = os.fstat(fd)
    finally:
        os.close(fd)
    stamp = (info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)
    return stamp, digest.hexdigest() if digest is not None else ""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _make_symlink(tmp: Path, member: Member, archive: Path) -> None:
    path = tmp / member.name
    path.symlink_to(member.target)
    # The lexical check passed; now check where it really leads, links of links included.
    real, root = os.path.realpath(path), os.path.realpath(tmp)
    if real != root and not real.startswith(root + os.sep):
        raise refuse(
            archive, member.name, f"is a symlink that resolves outside ({member.target!r})"
        )
