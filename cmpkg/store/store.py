"""The content-addressed store: atomic entries under per-entry OS locks, verify, roots, gc.

Owns: the `store-v1/` tree under the cmpkg home. An entry is built into `tmp/<key>.<rand>`,
its file manifest and `cmpkg-entry.json` are written and fsynced, the directory is renamed to
`entries/<key>`, and the completion marker is written LAST. Only entries with the marker are
visible. `ensure` holds the entry's exclusive lock while building and re-checks completion
after acquiring it, so K processes build once; `use` holds a shared lock that `gc` and
`remove` respect (they only take the exclusive lock without waiting).

Must not: know what a recipe is (it calls `build(tmp_dir)` and records what comes back),
expose an incomplete entry, or delete anything a live process holds locked.
"""

from __future__ import annotations

import builtins
import contextlib
import datetime
import json
import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.store import layout, manifest
from cmpkg.store.keys import check_key
from cmpkg.store.locks import os_lock
from cmpkg.store.manifest import FileRecord, VerifyResult

FORMAT = 1  # of cmpkg-entry.json
_ROOT_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$")

Build = Callable[[Path], Mapping[str, Any]]


def default_root() -> Path:
    """cmpkg's home (`cmpkg.config.home`): the store lives at its root."""
    from cmpkg.config import home

    return home()


@dataclass(frozen=True, slots=True)
class Entry:
    key: str
    path: Path
    metadata: Mapping[str, Any]  # the parsed cmpkg-entry.json

    @property
    def meta(self) -> Mapping[str, Any]:
        """What the caller passed to `ensure(meta=...)` (package, version, variants...)."""
        return dict(self.metadata.get("meta", {}))

    @property
    def build_result(self) -> Mapping[str, Any]:
        """What `build()` returned."""
        return dict(self.metadata.get("build", {}))

    @property
    def files(self) -> tuple[FileRecord, ...]:
        return tuple(FileRecord.from_json(f) for f in self.metadata.get("files", ()))

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def created(self) -> str:
        return str(self.metadata.get("created", ""))


@dataclass(frozen=True, slots=True)
class GcResult:
    removed: tuple[str, ...]  # entry keys deleted (or that would be, with dry_run)
    in_use: tuple[str, ...]  # unreferenced, but a live process holds them: kept
    swept: tuple[Path, ...]  # leftovers of dead processes: temp dirs, partial downloads
    freed_bytes: int
    dry_run: bool


class Store:
    """One store root. Cheap to create; every method is safe across processes."""

    def __init__(self, root: Path | None = None) -> None:
        self.home = Path(root) if root is not None else default_root()
        self.base = self.home / layout.LAYOUT

    # ------------------------------------------------------------------ paths

    @property
    def downloads_dir(self) -> Path:
        """Where install should `fetch` artifacts to: gc sweeps its dead `.partial` files."""
        return self.base / layout.DOWNLOADS

    def entry_path(self, key: str) -> Path:
        """Where the entry lives once complete (builds that embed paths must use this)."""
        return self.base / layout.ENTRIES / check_key(key)

    def _lock_path(self, key: str) -> Path:
        return self.base / layout.LOCKS / (key + layout.LOCK_SUFFIX)

    def _tmp_dir(self) -> Path:
        path = self.base / layout.TMP
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ reading

    def get(self, key: str) -> Entry | None:
        """The complete entry for `key`, or None. Incomplete entries are never returned."""
        path = self.entry_path(key)
        if not (path / layout.MARKER).is_file():
            return None
        try:
            metadata = json.loads((path / layout.METADATA).read_text("utf-8"))
        except (OSError, ValueError):
            return None  # a marker without readable metadata is not an entry we can trust
        return Entry(key, path, metadata)

    def list(self) -> list[Entry]:
        entries_dir = self.base / layout.ENTRIES
        if not entries_dir.is_dir():
            return []
        keys = sorted(p.name for p in entries_dir.iterdir() if layout.KEY_RE.match(p.name))
        return [e for e in (self.get(k) for k in keys) if e is not None]

    def resolve(self, prefix: str) -> str:
        """The one complete entry key starting with `prefix`, or a UsageError."""
        prefix = prefix.strip().lower()
        matches = [e.key for e in self.list() if e.key.startswith(prefix)] if prefix else []
        if len(matches) == 1:
            return matches[0]
        if not matches:
            raise UsageError(
                "no-such-entry",
                f"no store entry matches {prefix!r}",
                hint="`cmpkg cache list` shows the keys",
            )
        raise UsageError(
            "ambiguous-key",
            f"{prefix!r} matches {len(matches)} entries",
            hint="give more digits of the key",
            details=matches[:10],
        )

    def info(self, key: str) -> Entry:
        entry = self.get(key)
        if entry is None:
            raise UsageError("no-such-entry", f"no complete store entry {key}")
        return entry

    def verify(self, key: str) -> VerifyResult:
        """Compare the entry's files with its manifest: changed, missing and added paths."""
        entry = self.info(key)
        return manifest.compare(key, entry.path, entry.files)

    def require_intact(self, key: str) -> Entry:
        """The entry, after checking every file against its manifest (RELIABILITY A4).

        For install/run paths that must not silently reuse an edited entry. Costs a full
        read of the entry's files.
        """
        result = self.verify(key)
        if not result.ok:
            lines = [f"changed: {p}" for p in result.changed]
            lines += [f"missing: {p}" for p in result.missing]
            lines += [f"added: {p}" for p in result.added]
            raise CmpkgError(
                "entry-modified",
                f"store entry {key[:12]} was modified after it was installed",
                hint=f"remove it with `cmpkg cache rm {key[:12]}` and install again",
                details=lines,
            )
        return self.info(key)

    # ------------------------------------------------------------------ building

    def ensure(self, key: str, build: Build, meta: Mapping[str, Any] | None = None) -> Entry:
        """The entry for `key`, building it with `build(tmp_dir)` if absent.

        Concurrent callers (threads or processes) for one key build once: the first takes
        the exclusive lock and builds, the others wait and then see the finished entry.
        `build` writes the entry's files into `tmp_dir` and returns JSON-able facts that are
        recorded. If it raises (Ctrl-C included), the temp dir is removed and no entry exists.
        """
        entry = self.get(key)
        if entry is not None:
            return entry
        with os_lock(self._lock_path(key)):
            entry = self.get(key)  # someone finished it while we waited
            if entry is not None:
                return entry
            self._clear_leftovers(key)
            return self._build(key, build, dict(meta or {}))

    def _build(self, key: str, build: Build, meta: dict[str, Any]) -> Entry:
        tmp = Path(tempfile.mkdtemp(prefix=key + ".", dir=self._tmp_dir()))
        final = self.entry_path(key)
        try:
            result = dict(build(tmp))
            metadata = self._seal(key, tmp, meta, result)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(final)
            _fsync_dir(final.parent)
            _write_atomic(final / layout.MARKER, key.encode() + b"\n")
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            if final.exists() and not (final / layout.MARKER).exists():
                self._trash(final)
            raise
        return Entry(key, final, metadata)

    def _seal(self, key: str, tmp: Path, meta: dict[str, Any], result: dict[str, Any]) -> Any:
        reserved = manifest.reserved_in(tmp)
        if reserved:
            raise CmpkgError(
                "reserved-name",
                f"the build of {key[:12]} wrote {', '.join(reserved)}, names only cmpkg may write",
                hint="a recipe or archive must not create cmpkg's own store files",
            )
        files = manifest.record(tmp, sync=True)
        metadata = {
            "format": FORMAT,
            "key": key,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "meta": meta,
            "build": result,
            "files": [f.to_json() for f in files],
        }
        _write_atomic(tmp / layout.METADATA, _dumps(metadata))
        _fsync_dir(tmp)
        return json.loads(_dumps(metadata))

    def _clear_leftovers(self, key: str) -> None:
        """Remove what a dead builder of `key` left; we hold the key's lock, so it is dead."""
        for path in self._tmp_dir().glob(key + ".*"):
            shutil.rmtree(path, ignore_errors=True)
        final = self.entry_path(key)
        if final.exists() and not (final / layout.MARKER).exists():
            self._trash(final)

    def _trash(self, path: Path) -> None:
        """Make `path` vanish atomically (rename), then delete it."""
        trash = Path(tempfile.mkdtemp(prefix="trash-", dir=self._tmp_dir()))
        path.rename(trash / "entry")
        shutil.rmtree(trash, ignore_errors=True)

    # ------------------------------------------------------------------ using, removing

    @contextlib.contextmanager
    def use(self, key: str) -> Iterator[Entry]:
        """Hold a shared lock on the entry while using it: gc and rm will not delete it."""
        with self.hold(key):
            yield self.info(key)

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        """The shared lock of `use` without reading the entry's metadata (`cmpkg run`
        holds every entry of an environment while the app runs)."""
        with os_lock(self._lock_path(check_key(key)), shared=True):
            yield

    def remove(self, key: str) -> None:
        with os_lock(self._lock_path(check_key(key)), blocking=False) as held:
            if not held:
                raise CmpkgError(
                    "entry-in-use",
                    f"store entry {key[:12]} is in use by another process",
                    hint="retry when the other cmpkg command has finished",
                )
            if not self.entry_path(key).exists():
                raise UsageError("no-such-entry", f"no store entry {key}")
            self._trash(self.entry_path(key))
            self._lock_path(key).unlink(missing_ok=True)  # safe: we hold it (see os_lock)

    # ------------------------------------------------------------------ roots

    def add_root(self, name: str, keys: Iterable[str]) -> Path:
        """Record that `name` (an environment, a project) references `keys`; replaces it."""
        path = self._root_path(name)
        data = {"name": name, "keys": sorted({check_key(k) for k in keys})}
        path.parent.mkdir(parents=True, exist_ok=True)
        _write_atomic(path, _dumps(data))
        return path

    def remove_root(self, name: str) -> bool:
        try:
            self._root_path(name).unlink()
        except FileNotFoundError:
            return False
        return True

    def roots(self) -> dict[str, tuple[str, ...]]:
        roots_dir = self.base / layout.ROOTS
        if not roots_dir.is_dir():
            return {}
        found: dict[str, tuple[str, ...]] = {}
        for path in sorted(roots_dir.glob("*.json")):
            try:
                data = json.loads(path.read_text("utf-8"))
            except (OSError, ValueError):
                continue  # half-written roots cannot exist (atomic writes); foreign files skip
            found[path.stem] = tuple(str(k) for k in data.get("keys", ()))
        return found

    def _root_path(self, name: str) -> Path:
        if not _ROOT_NAME.match(name):
            raise UsageError("bad-root-name", f"{name!r} is not a valid root name")
        return self.base / layout.ROOTS / f"{name}.json"

    # ------------------------------------------------------------------ gc

    def gc(self, referenced: Iterable[str] = (), *, dry_run: bool = False) -> GcResult:
        """Delete entries no root references and dead leftovers; never what is in use."""
        keep = set(referenced).union(*self.roots().values())
        removed: builtins.list[str] = []
        in_use: builtins.list[str] = []
        half_built: builtins.list[str] = []  # a builder died between rename and marker
        freed = 0
        for key, path in self._entry_dirs():
            complete = (path / layout.MARKER).exists()
            if complete and key in keep:
                continue
            with os_lock(self._lock_path(key), blocking=False) as held:
                if not held:
                    in_use.append(key)
                    continue
                freed += _tree_size(path)
                (removed if complete else half_built).append(key)
                if not dry_run:
                    self._trash(path)
                    self._lock_path(key).unlink(missing_ok=True)
        swept = [self.base / layout.ENTRIES / k for k in half_built] + self._sweep(dry_run)
        if not dry_run:
            self._sweep_locks()
        return GcResult(tuple(removed), tuple(in_use), tuple(swept), freed, dry_run)

    def _entry_dirs(self) -> builtins.list[tuple[str, Path]]:
        entries_dir = self.base / layout.ENTRIES
        if not entries_dir.is_dir():
            return []
        return sorted((p.name, p) for p in entries_dir.iterdir() if layout.KEY_RE.match(p.name))

    def _sweep(self, dry_run: bool) -> builtins.list[Path]:
        swept: builtins.list[Path] = []
        for path in sorted(self._tmp_dir().iterdir()):
            if path.name.startswith("trash-") or self._builder_dead(path):
                swept.append(path)
                if not dry_run:
                    shutil.rmtree(path, ignore_errors=True)
        if self.downloads_dir.is_dir() and not dry_run:
            from cmpkg.fetch import sweep_partials

            swept += sweep_partials(self.downloads_dir)
        return swept

    def _sweep_locks(self) -> None:
        """Delete lock files of keys without an entry that nobody holds (they pile up)."""
        locks_dir = self.base / layout.LOCKS
        if not locks_dir.is_dir():
            return
        for path in sorted(locks_dir.glob("*" + layout.LOCK_SUFFIX)):
            key = path.name[: -len(layout.LOCK_SUFFIX)]
            if not layout.KEY_RE.match(key) or self.entry_path(key).exists():
                continue
            with os_lock(path, blocking=False) as held:
                if held:
                    # Deleting a lock file is safe only while holding it: a process that
                    # opened it before us re-opens after locking (os_lock's inode check).
                    path.unlink(missing_ok=True)

    def _builder_dead(self, tmp: Path) -> bool:
        # `<key>.<rand>` builds, and `.<key>.<rand>.extract-*` dirs that archive.extract
        # makes beside a build dir it extracts into.
        key = tmp.name.lstrip(".").partition(".")[0]
        if not layout.KEY_RE.match(key):
            return False  # not ours: leave it
        with os_lock(self._lock_path(key), blocking=False) as held:
            return held


# ---------------------------------------------------------------------------- file helpers


def _dumps(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def _write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp file beside `path`, fsync, rename over it, fsync the directory."""
    fd, tmp_name = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        Path(tmp_name).replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _tree_size(path: Path) -> int:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(directory) / name).lstat().st_size
    return total
