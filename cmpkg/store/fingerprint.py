"""The stat table of a store entry: a cheap, complete test that nothing in it changed.

Owns: taking, at commit, one stamp `(size, mtime_ns, ctime_ns, inode)` per recorded file and
`(mtime_ns, ctime_ns, inode)` per directory, and checking an entry against them. A file whose
stamp still matches is taken as unchanged without reading it; one whose stamp differs is
re-hashed, so a `touch` alone never refuses an entry. A directory whose stamp differs is
listed and its names compared with the manifest: that is how added and removed files are
found without listing every directory on every check. The top directory is always listed
(the store writes its completion marker there after the table is taken).

Why ctime: `touch -d`, `os.utime` and `cp -p` can put back any mtime, but no unprivileged
call sets ctime; every write, chmod, rename or link count change moves it to "now". A
same-size edit with the mtime restored therefore still changes the stamp. The inode catches
a file replaced by another one (rename over it).

The table is kept twice: in `cmpkg-entry.json` beside the manifest (what `check` reads, with
the hashes it needs to tell a `touch` from an edit), and alone in the entry's `cmpkg-stat.bin`
sidecar (marshal: no JSON parse of a venv's 1 MB manifest), which `intact` reads for the
no-op install (`cmpkg.commands.noop`): a yes/no answer, where any moved stamp is a "no" and the
caller takes the full path, whose `check` then says exactly what changed.

Shared inodes (docs/store.md, "Python environments"): a venv's files are hard links into
uv's cache, so linking the same wheel into another environment, or removing one, moves the
ctime of every link of those files without changing a byte. `check` re-hashes such a file,
and where the content still matches and the stamp held still while it was read (and is old
enough that a write in the same clock tick cannot hide behind it), it returns the new stamp
for the store to record: one verified re-stamp, after which the no-op is fast again.

Must not: read file contents on the happy path (a no-op install stats each file once).
"""

# os.path on str paths: entries have thousands of files, and pathlib costs per path.
# ruff: noqa: PTH114, PTH115, PTH118, PTH208

from __future__ import annotations

import marshal
import os
import stat
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, NamedTuple

from cmpkg.store.layout import OWN, STAT

_CHUNK = 1024 * 1024
_OWN = OWN
SIDECAR_FORMAT = 1
Stamp = list[int]
#: A stamp whose ctime is closer to "now" than this is not recorded anew: file systems keep
#: timestamps at a coarse clock tick (ext4: the kernel's jiffy, up to 10 ms), so a write in
#: the same tick as the change we saw would leave the same stamp (git's "racy" entries).
RACY_NS = 50_000_000


class Checked(NamedTuple):
    """What `check` found: (changed, missing, added) paths; `table`, the stat table to
    record instead of the one given when some stamps moved without any change (else None);
    `debris`, temp files of the store's own atomic writes whose writer was killed."""

    changed: list[str]
    missing: list[str]
    added: list[str]
    table: dict[str, Any] | None
    debris: list[str]


def _file_stamp(info: os.stat_result) -> Stamp:
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def _dir_stamp(info: os.stat_result) -> Stamp:
    # A directory's size says nothing portable; mtime and ctime move when a name is added,
    # removed or renamed in it.
    return [info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def directories(root: str) -> Iterator[str]:
    """Every real directory below `root` (relative, '/'-separated), not through symlinks."""
    for directory, dirnames, _files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not os.path.islink(os.path.join(directory, d)))
        for name in dirnames:
            yield os.path.relpath(os.path.join(directory, name), root).replace(os.sep, "/")


def take(root: str, paths: Sequence[str]) -> dict[str, Any]:
    """The table of `root` for the manifest's `paths` (in manifest order). Call it after the
    last change to the tree (chmod included): every later change moves a ctime."""
    files = [_file_stamp(os.lstat(os.path.join(root, p))) for p in paths]
    names = list(directories(root))
    dirs = [[rel, *_dir_stamp(os.lstat(os.path.join(root, rel)))] for rel in names]
    top = sorted({p.partition("/")[0] for p in [*paths, *names]})
    return {"files": files, "dirs": dirs, "top": top}


def sidecar(paths: Sequence[str], table: Mapping[str, Any]) -> bytes:
    """The `cmpkg-stat.bin` bytes of a table `take` returned for the manifest's `paths`:
    the stamps grouped by directory, so that `intact` stats names relative to an open
    directory (`fstatat`) rather than walking every path from the root."""
    groups: dict[str, tuple[Any, list[str], list[tuple[int, ...]]]] = {"": (None, [], [])}
    for rel, *stamp in table["dirs"]:
        groups[rel] = (tuple(stamp), [], [])
    for path, stamp in zip(paths, table["files"], strict=True):
        parent, _, name = path.rpartition("/")
        groups[parent][1].append(name)
        groups[parent][2].append(tuple(stamp))
    flat = [(rel, *group) for rel, group in groups.items()]
    return marshal.dumps((SIDECAR_FORMAT, flat, list(table["top"])))


def intact(root: str) -> bool:
    """Whether the complete entry at `root` is exactly as committed, by its sidecar alone:
    one small read, one `fstat` per directory and one `fstatat` per file, one listing.
    False on any doubt (a moved stamp, no sidecar, an unreadable one): the caller then
    runs `check`, which says what changed."""
    try:
        with open(os.path.join(root, STAT), "rb") as fh:  # noqa: PTH123 - see the top
            fmt, groups, top = marshal.loads(fh.read())
        if fmt != SIDECAR_FORMAT or set(os.listdir(root)) != {*top, *_OWN}:
            return False  # something added at the top, or the marker gone
        prefix = os.path.join(root, "")
        return all(_group_intact(prefix + rel, *rest) for rel, *rest in groups)
    except (OSError, ValueError, TypeError, EOFError):
        return False


def _group_intact(path: str, stamp: Any, names: list[str], stamps: list[Any]) -> bool:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
    try:
        if stamp is not None:
            info = os.fstat(fd)
            if (info.st_mtime_ns, info.st_ctime_ns, info.st_ino) != stamp:
                return False  # a name added, removed or renamed in it
        lstat = os.lstat
        found = [lstat(n, dir_fd=fd) for n in names]
        return [(s.st_size, s.st_mtime_ns, s.st_ctime_ns, s.st_ino) for s in found] == stamps
    finally:
        os.close(fd)


def check(root: str, files: Sequence[Mapping[str, Any]], table: Mapping[str, Any]) -> Checked:
    """What changed in the entry at `root` (all empty when nothing did), and the re-taken
    table when some stamps moved over unchanged content (a new hard link, a `touch`).

    `files` are the manifest's raw records (`path`, `size`, `sha256`, `link`), `table` what
    `take` returned for them. Costs one `lstat` per file and directory and one listing of
    the top directory; a file is read only if its stamp moved.
    """
    changed: list[str] = []
    missing: list[str] = []
    fresh: dict[int, Stamp] = {}
    prefix = os.path.join(root, "")  # one concatenation per file: join costs a third as much
    lstat = os.lstat
    for index, (record, stamp) in enumerate(zip(files, table["files"], strict=True)):
        path = prefix + record["path"]
        try:
            info = lstat(path)
        except FileNotFoundError:
            missing.append(record["path"])
            continue
        if _file_stamp(info) == stamp:
            continue
        started = time.time_ns()
        if not _same_content(record, path, info):
            changed.append(record["path"])
        elif _settled(path, info, started, _file_stamp):
            fresh[index] = _file_stamp(info)
    listed = os.listdir(root)
    debris = [n for n in listed if _own_debris(n)]
    top = [n for n in listed if n not in _OWN and n not in debris]
    added, fresh_dirs = _names_added(root, files, table, missing, top)
    refreshed = None
    if fresh or fresh_dirs:
        refreshed = dict(table)
        refreshed["files"] = [fresh.get(i, s) for i, s in enumerate(table["files"])]
        refreshed["dirs"] = [fresh_dirs.get(i, d) for i, d in enumerate(table["dirs"])]
    return Checked(changed, sorted(set(missing)), added, refreshed, debris)


def _settled(path: str, before: os.stat_result, started: int, stamp: Any) -> bool:
    """Whether what was just read under stamp `before` is certified by it: the stamp held
    while it was read, and its ctime is older than a clock tick before the read began."""
    try:
        after = os.lstat(path)
    except OSError:
        return False
    return stamp(after) == stamp(before) and before.st_ctime_ns < started - RACY_NS


def _names_added(
    root: str,
    files: Sequence[Mapping[str, Any]],
    table: Mapping[str, Any],
    missing: list[str],
    top: list[str],
) -> tuple[list[str], dict[int, list[Any]]]:
    """Names added below `root` (whose own listing is `top`), and the new stamps of moved
    directories whose names were listed and found exactly as recorded (index in
    `table["dirs"]` -> row)."""
    moved: list[tuple[int, str, os.stat_result, int]] = []
    for index, (rel, *stamp) in enumerate(table["dirs"]):
        try:
            info = os.lstat(os.path.join(root, rel))
        except FileNotFoundError:
            missing.append(rel + "/")
            continue
        if not stat.S_ISDIR(info.st_mode):
            missing.append(rel + "/")
        elif _dir_stamp(info) != stamp:
            moved.append((index, rel, info, time.time_ns()))
    added = sorted(set(top) - set(table["top"]))
    if not moved:
        return added, {}
    children = _children(files, table)
    fresh: dict[int, list[Any]] = {}
    for index, rel, info, started in moved:
        try:
            present = set(os.listdir(os.path.join(root, rel)))
        except OSError:
            continue  # vanished or no longer a directory: reported as missing above
        extra = present - children.get(rel, set())
        added += [f"{rel}/{name}" for name in extra]  # missing: by lstat
        if not extra and _settled(os.path.join(root, rel), info, started, _dir_stamp):
            fresh[index] = [rel, *_dir_stamp(info)]
    return sorted(added), fresh


def _own_debris(name: str) -> bool:
    """The temp file of an atomic write of the store's own files, left by a killed writer
    (the store sweeps it when it next writes them): never part of the entry."""
    from cmpkg import atomic

    return name.startswith(".") and atomic.is_temp(name, of=_OWN)


def _children(files: Sequence[Mapping[str, Any]], table: Mapping[str, Any]) -> dict[str, set[str]]:
    """Directory -> the names the manifest says are in it (only needed when one changed)."""
    children: dict[str, set[str]] = {}
    for rel in [f["path"] for f in files] + [d[0] for d in table["dirs"]]:
        parent, _, name = rel.rpartition("/")
        children.setdefault(parent, set()).add(name)
    return children


def _same_content(record: Mapping[str, Any], path: str, info: os.stat_result) -> bool:
    """The slow path for one file whose stamp moved: compare what it holds."""
    if record.get("link"):
        return stat.S_ISLNK(info.st_mode) and os.readlink(path) == str(record["link"])
    kind = stat.S_IFMT(info.st_mode)
    if kind != stat.S_IFREG:  # a FIFO or device: only its type is recorded
        return str(record["sha256"]) == f"special:{kind:o}"
    if info.st_size != record["size"]:
        return False
    import hashlib  # only for a file whose stamp moved: the happy path never hashes

    digest = hashlib.sha256()
    with open(path, "rb") as fh:  # noqa: PTH123 - a str path: pathlib costs on big venvs
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest() == str(record["sha256"])
