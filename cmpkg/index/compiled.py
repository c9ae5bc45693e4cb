"""The compiled index: a cache that lets a command skip parsing recipes it does not reach.

For one stack of index directories it keeps, under `<cache>/<key>.*` (`key` hashes cmpkg's
version, this format and the directories):

* `.scan`: every directory and file of the stack with its `(size, mtime_ns)` (directories:
  `mtime_ns`, which changes when an entry is added, removed or renamed), the index revision
  and the cross-recipe problems. A command re-`stat`s these and, if nothing moved, trusts
  the rest: O(files) system calls and no parsing at all;
* `.table`: the compact table (`cmpkg.index.table.Row` per recipe, by name, newest first);
  read only when a command looks a package up;
* `.detail`: per recipe file, its inputs (the recipe and every file it ships, with their
  stats), its row, its summary for the checks, or its problems; read only to rebuild.

When anything moved, the stack is walked again and only the recipes whose inputs changed
are parsed; merging and the cross-recipe checks run on the summaries. Safety:

* "racily clean" files (as git calls them): a file changed twice within one timestamp tick
  keeps its stat, so files and directories modified less than `RACY_NS` before the cache
  was written are checked by content (files: sha256; directories: their listing) until
  they are older;
* every file is written to a temporary sibling and renamed (concurrent writers each replace
  the whole file; a reader sees one writer's file or another's); `.table` and `.detail`
  carry the token of the `.scan` they belong to, so a mix of two writers is a miss;
* anything unreadable, truncated or of another format is a miss, and the cache is rebuilt.
"""

# Paths are plain strings and `os` calls on purpose: a `Path` object per entry costs more
# than the `stat` it wraps, and this module touches every file of the index on every start.
# ruff: noqa: PTH100, PTH105, PTH113, PTH116, PTH123, PTH208

from __future__ import annotations

import marshal
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg import __version__, sha256
from cmpkg.index.table import Row, Summary

FORMAT = 1  # bump when any cached shape changes
RACY_NS = 2_000_000_000  # timestamps are coarse (jiffies): within this, trust content only
SKIP_DIRS = frozenset({"__pycache__"})
CACHE_DIR = "index-v1"  # under $CMPKG_HOME: every stack's compiled files and the documents
SUFFIXES = (".scan", ".table", ".detail")  # the files of one stack: `<cache>/<key><suffix>`

Stat = tuple[int, int]
Table = dict[str, tuple[Row, ...]]


# NamedTuples rather than dataclasses: this module is imported by every command that reads
# the index, and a dataclass costs a generated-code `exec` per class at import.


class Scan(NamedTuple):
    """Every directory and file of a stack, in walk order, with their stats."""

    dirs: list[str]
    dir_mtimes: list[int]
    files: list[str]
    file_stats: list[Stat]

    def stats(self) -> dict[str, Stat]:
        return dict(zip(self.files, self.file_stats, strict=True))


class Record(NamedTuple):
    """One recipe file as compiled: its inputs (path, size, mtime_ns), and its row and
    summary, or the problems that kept it out of the index."""

    inputs: tuple[tuple[str, int, int], ...]
    shipped: tuple[str, ...]  # the paths beside it that its digest covers
    created_ns: int
    name: str
    version: str | None
    row: Row | None
    summary: Summary | None
    problems: tuple[str, ...]


class Compiled(NamedTuple):
    """What a cache hit or a rebuild hands to `cmpkg.index.Index`."""

    revision: str
    problems: tuple[str, ...]
    table: Callable[[], Table]  # loads `.table` when first called, once


class Built(NamedTuple):
    """A lookup's or a rebuild's result, plus the recipes a rebuild parsed on the way."""

    compiled: Compiled
    parsed: dict[str, Any]  # path -> cmpkg.index.model.Recipe (not imported here)


def cache_key(dirs: Sequence[Path]) -> str:
    spelled = [[str(d), os.path.abspath(d)] for d in dirs]
    text = repr((__version__, FORMAT, spelled))
    return sha256.hexdigest(text.encode())[:32]


# --- the fast path: one file read and one `stat` per entry -------------------------------


def lookup(base: Path, rebuilt_table: Callable[[], Table]) -> Compiled | None:
    """The cached compile of the stack at `base`, or None when anything moved.

    `rebuilt_table` is called if `.table` turns out unusable after all (damaged, or written
    by another process since): the table is then rebuilt rather than trusted.
    """
    data = read(base.with_suffix(".scan"))
    try:
        token, lists, racy_files, racy_dirs, revision, problems = data
        scan = Scan(*lists)
    except (TypeError, ValueError):
        return None
    if not unchanged(scan) or not _racy_still(racy_files, racy_dirs):
        return None
    if racy_files or racy_dirs:
        _settle(base, token, scan, revision, problems)

    memo: list[Table] = []

    def table() -> Table:
        if not memo:
            found = read(base.with_suffix(".table"))
            ok = found is not None and found[0] == token and isinstance(found[1], dict)
            memo.append(found[1] if ok else rebuilt_table())
        return memo[0]

    return Compiled(revision, tuple(problems), table)


def _racy_still(files: list[tuple[str, str]], dirs: list[tuple[str, list[str]]]) -> bool:
    """Recent entries are trusted by content only (see the module docstring)."""
    return all(_sha256(p) == h for p, h in files) and all(_listing(p) == n for p, n in dirs)


def _settle(base: Path, token: str, scan: Scan, revision: str, problems: Any) -> None:
    """Once racy entries are old enough, rewrite `.scan` without them (just verified)."""
    files, dirs = racy(scan, now_ns())
    if not files and not dirs:
        write_scan(base, token, scan, ([], []), revision, problems)


def write_scan(
    base: Path,
    token: str,
    scan: Scan,
    racy: tuple[list[Any], list[Any]],
    revision: str,
    problems: Any,
) -> None:
    lists = (scan.dirs, scan.dir_mtimes, scan.files, scan.file_stats)
    write(base.with_suffix(".scan"), token, lists, *racy, revision, list(problems))


# --- scanning -----------------------------------------------------------------------------


def walk(roots: Sequence[Path]) -> Scan:
    """Every directory and file under `roots` (skipping `__pycache__`); a root may be a file."""
    scan = Scan([], [], [], [])
    for root in roots:
        _walk_root(str(root), scan)
    return scan


def _walk_root(root: str, scan: Scan) -> None:
    if os.path.isfile(root):
        _add_file(root, scan)
        return
    stack = [root]
    while stack:
        directory = stack.pop()
        try:
            scan.dir_mtimes.append(os.stat(directory).st_mtime_ns)
            entries = sorted(os.scandir(directory), key=lambda e: e.name)
        except OSError:
            scan.dir_mtimes.append(-1)
            entries = []
        scan.dirs.append(directory)
        for entry in reversed(entries):
            if entry.is_dir(follow_symlinks=False):
                if entry.name not in SKIP_DIRS:
                    stack.append(entry.path)
            else:
                _add_file(entry.path, scan)


def _add_file(path: str, scan: Scan) -> None:
    try:
        st = os.stat(path)
        stat = (st.st_size, st.st_mtime_ns)
    except OSError:
        stat = (-1, -1)  # dangling: reported by the loader, never a hit
    scan.files.append(path)
    scan.file_stats.append(stat)


def unchanged(scan: Scan) -> bool:
    """Whether every directory and file still has its recorded stat. O(entries) `stat`s."""
    stat = os.stat
    try:
        if [stat(d).st_mtime_ns for d in scan.dirs] != scan.dir_mtimes:
            return False
        return [(s.st_size, s.st_mtime_ns) for s in map(stat, scan.files)] == scan.file_stats
    except OSError:
        return False


def racy(scan: Scan, now_ns: int) -> tuple[list[tuple[str, str]], list[tuple[str, list[str]]]]:
    """The entries too recent to trust by stat: files with their sha256, dirs with listings."""
    limit = now_ns - RACY_NS
    files = [
        (path, _sha256(path))
        for path, (_, mtime) in zip(scan.files, scan.file_stats, strict=True)
        if mtime > limit
    ]
    dirs = [
        (path, _listing(path))
        for path, mtime in zip(scan.dirs, scan.dir_mtimes, strict=True)
        if mtime > limit
    ]
    return files, dirs


def _sha256(path: str) -> str:
    try:
        with open(path, "rb") as f:
            return sha256.hexdigest(f.read())
    except OSError:
        return ""


def _listing(path: str) -> list[str]:
    try:
        return sorted(os.listdir(path))
    except OSError:
        return []


# --- the cache files ----------------------------------------------------------------------


def read(path: Path) -> Any:
    """The marshalled value in `path`, or None when absent, damaged or of another format."""
    try:
        data = marshal.loads(path.read_bytes())
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, tuple) or len(data) < 3 or data[:2] != (FORMAT, __version__):
        return None
    return data[2:]


def write(path: Path, *values: Any) -> None:
    """Atomically replace `path` (concurrent writers each rename a whole file over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    try:
        tmp.write_bytes(marshal.dumps((FORMAT, __version__, *values)))
        os.replace(tmp, path)
    except OSError:
        pass  # the cache is only a speed-up: a read-only or full disk just means no cache
    finally:
        tmp.unlink(missing_ok=True)


def new_token() -> str:
    return os.urandom(8).hex()


def now_ns() -> int:
    return time.time_ns()
