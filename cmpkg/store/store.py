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
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError
from cmpkg.store import fingerprint, holds, layout, manifest, readonly, stamps
from cmpkg.store import roots as root_files
from cmpkg.store.keys import check_key
from cmpkg.store.locks import os_lock
from cmpkg.store.manifest import FileRecord, VerifyResult
from cmpkg.store.roots import Root

FORMAT = stamps.FORMAT

#: A build writes an entry's files into the dir it is given; it returns the facts to record,
#: or `Built` with them and the files whose hashes it took while writing them.
Build = Callable[[Path], Mapping[str, Any] | stamps.Built]


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
        return holds.lock_path(self.base, key)

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
        """Re-hash every file of the entry: changed, missing and added paths (the slow,
        paranoid check of `cmpkg cache verify`)."""
        entry = self.info(key)
        return manifest.compare(key, entry.path, entry.files)

    def check(self, entry: Entry) -> VerifyResult:
        """What `verify` finds, from the stat table taken at commit: one `lstat` per file
        and directory, re-hashing only files whose stamp moved (docs/store.md, "Reuse").
        Where stamps moved over unchanged content (a hard link to a shared file made or
        removed elsewhere, a `touch`), the verified stamps are recorded, so only this check
        pays for the re-hash. An entry written before the table existed (format 1) is
        re-hashed in full once and, if intact, frozen and given its table."""
        table = entry.metadata.get("stat")
        lock = self._lock_path(entry.key)
        if table is None:
            result = manifest.compare(entry.key, entry.path, entry.files)
            if result.ok:
                stamps.upgrade(lock, entry.path, entry.metadata)
            return result
        files = entry.metadata.get("files", [])  # raw records: a venv has thousands
        found = fingerprint.check(str(entry.path), files, table)
        paths = tuple(found.changed), tuple(found.missing), tuple(found.added)
        result = VerifyResult(entry.key, *paths)
        stale = found.table is not None or found.debris
        if result.ok and (stale or not (entry.path / layout.STAT).exists()):
            stamps.rewrite(lock, entry.path, entry.metadata, found.table or table)
        return result

    def require_intact(self, entry: Entry) -> Entry:
        """`entry`, after `check` found it as it was committed (RELIABILITY A4), else
        `entry-modified` naming every changed, missing and added path. For install and run,
        which must never silently use an edited entry."""
        result = self.check(entry)
        if not result.ok:
            lines = [f"changed: {p}" for p in result.changed]
            lines += [f"missing: {p}" for p in result.missing]
            lines += [f"added: {p}" for p in result.added]
            key, package = entry.key, entry.meta.get("package") or entry.meta.get("name")
            raise CmpkgError(
                "entry-modified",
                f"store entry {key[:12]}{f' ({package})' if package else ''} was modified "
                f"after it was installed: {lines[0]}"
                + (f" and {len(lines) - 1} more" if len(lines) > 1 else ""),
                hint=f"`cmpkg cache verify {key[:12]}` lists every change; "
                f"`cmpkg cache rm --force {key[:12]}` and install again",
                details=lines,
            )
        return entry

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
            self.mark_used(key)
            return entry
        with os_lock(self._lock_path(key)):
            entry = self.get(key)  # someone finished it while we waited
            if entry is not None:
                self.mark_used(key)
                return entry
            self._clear_leftovers(key)
            return self._build(key, build, dict(meta or {}))

    def _build(self, key: str, build: Build, meta: dict[str, Any]) -> Entry:
        tmp = Path(tempfile.mkdtemp(prefix=key + ".", dir=self._tmp_dir()))
        final = self.entry_path(key)
        try:
            out = build(tmp)
            built = out if isinstance(out, stamps.Built) else stamps.Built(out)
            metadata = self._seal(key, tmp, meta, built)
            final.parent.mkdir(parents=True, exist_ok=True)
            tmp.rename(final)
            atomic.fsync_dir(final.parent)
            stamps.write(final / layout.MARKER, key.encode() + b"\n")
            readonly.freeze_top(final, layout.OWN)
        except BaseException:
            readonly.rmtree(tmp)
            if final.exists() and not (final / layout.MARKER).exists():
                self._trash(final)
            raise
        return Entry(key, final, metadata)

    def _seal(self, key: str, tmp: Path, meta: dict[str, Any], built: stamps.Built) -> Any:
        reserved = manifest.reserved_in(tmp)
        if reserved:
            raise CmpkgError(
                "reserved-name",
                f"the build of {key[:12]} wrote {', '.join(reserved)}, names only cmpkg may write",
                hint="a recipe or archive must not create cmpkg's own store files",
            )
        readonly.freeze_below(tmp)  # before the table: chmod moves ctimes
        files, table = stamps.recorded(tmp, built.vouched)
        manifest.flush(tmp)  # the data (and modes) durable before anything vouches for it
        paths = [f.path for f in files]
        stamps.write(tmp / layout.STAT, fingerprint.sidecar(paths, table))
        metadata = {
            "format": FORMAT,
            "key": key,
            "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "meta": meta,
            "build": dict(built.result),
            "files": [f.to_json() for f in files],
            "stat": table,
        }
        data = stamps.dumps(metadata)  # a venv's is 1 MB: serialised once, for file and value
        stamps.write(tmp / layout.METADATA, data)
        atomic.fsync_dir(tmp)
        return json.loads(data)

    def _clear_leftovers(self, key: str) -> None:
        """Remove what a dead builder of `key` left; we hold the key's lock, so it is dead."""
        for path in self._tmp_dir().glob(key + ".*"):
            readonly.rmtree(path)
        final = self.entry_path(key)
        if final.exists() and not (final / layout.MARKER).exists():
            self._trash(final)

    def _trash(self, path: Path) -> None:
        """Make `path` vanish atomically (rename), then delete it."""
        trash = Path(tempfile.mkdtemp(prefix="trash-", dir=self._tmp_dir()))
        readonly.thaw_top(path)  # moving a directory rewrites its `..`: it must be writable
        path.rename(trash / "entry")
        readonly.rmtree(trash)

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
        with holds.hold(self.base, key):
            yield

    def mark_used(self, key: str) -> None:
        """Note that `key` was used now (`cmpkg cache list` shows it): `cmpkg.store.holds`."""
        holds.mark_used(self.base, key)

    def last_used(self, entry: Entry) -> str:
        """When the entry was last used or built (ISO 8601, UTC)."""
        try:
            mtime = (self.base / layout.USED / entry.key).stat().st_mtime
        except OSError:
            return entry.created
        used = datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc)
        return max(used.isoformat(timespec="seconds"), entry.created)

    def remove(self, key: str, *, force: bool = False) -> builtins.list[Root]:
        """Delete the entry `key`, refused while a root needs it (`entry-referenced`, naming
        them) unless `force`, which marks those roots broken. Returns the roots it broke."""
        users = root_files.users(self._roots_dir, check_key(key))
        if users and not force:
            entry = self.get(key)
            package = entry.meta.get("package") or entry.meta.get("name") if entry else None
            raise CmpkgError(
                "entry-referenced",
                f"store entry {key[:12]}{f' ({package})' if package else ''} is used by "
                + ", ".join(r.label for r in users),
                hint="remove those first (`cmpkg env rm NAME`), or `cmpkg cache rm --force "
                f"{key[:12]}` to delete it anyway (they then need `cmpkg install` again)",
            )
        with os_lock(self._lock_path(key), blocking=False) as held:
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
        root_files.mark_broken(self._roots_dir, key, users)
        return users

    # ------------------------------------------------------------------ roots

    def add_root(self, name: str, keys: Iterable[str]) -> Path:
        """Record that `name` (an environment, a project) references `keys`; replaces it."""
        return root_files.save(self._roots_dir, Root(name, tuple(keys)))

    def remove_root(self, name: str) -> bool:
        try:
            root_files.path_of(self._roots_dir, name).unlink()
        except FileNotFoundError:
            return False
        return True

    def roots(self) -> dict[str, tuple[str, ...]]:
        return {name: root.keys for name, root in self.root_records().items()}

    def root_records(self) -> dict[str, Root]:
        """Every root with its keys and the keys `remove(force=True)` deleted from it."""
        return root_files.load_all(self._roots_dir)

    @property
    def _roots_dir(self) -> Path:
        return self.base / layout.ROOTS

    # ------------------------------------------------------------------ gc

    def gc(self, referenced: Iterable[str] = (), *, dry_run: bool = False) -> GcResult:
        """Delete entries no root references and dead leftovers; never what is in use."""
        keep = set(referenced).union(*self.roots().values())
        removed: builtins.list[str] = []
        in_use: builtins.list[str] = []
        half_built: builtins.list[str] = []  # a builder died between rename and marker
        freed = _Freed()
        for key, path in self._entry_dirs():
            complete = (path / layout.MARKER).exists()
            if complete and key in keep:
                continue
            with os_lock(self._lock_path(key), blocking=False) as held:
                if not held:
                    in_use.append(key)
                    continue
                freed.add(path)
                (removed if complete else half_built).append(key)
                if not dry_run:
                    self._trash(path)
                    self._lock_path(key).unlink(missing_ok=True)
        swept = [self.base / layout.ENTRIES / k for k in half_built] + self._sweep(dry_run)
        if not dry_run:
            self._sweep_locks()
        return GcResult(tuple(removed), tuple(in_use), tuple(swept), freed.total, dry_run)

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
                    readonly.rmtree(path)
        if self.downloads_dir.is_dir() and not dry_run:
            from cmpkg.fetch import sweep_partials

            swept += sweep_partials(self.downloads_dir)
        if not dry_run:
            swept += self.sweep_writes()
        return swept

    def sweep_writes(self) -> builtins.list[Path]:
        """Delete temp files of atomic writes whose writer died (`roots/.x.json.*.tmp`,
        `envs/.NAME.json.*.tmp`, caches under the home); a live writer's are kept (its
        lock is held). Costs one directory listing per directory: install calls it too."""
        swept = atomic.sweep(self._roots_dir, legacy=True)
        places = [self.home]
        if self.home.is_dir():
            places += [p for p in self.home.iterdir() if p.is_dir() and p != self.base]
        return swept + [path for place in places for path in atomic.sweep(place)]

    def _sweep_locks(self) -> None:
        """Delete lock files of keys without an entry that nobody holds (they pile up)."""
        for stamp in sorted((self.base / layout.USED).glob("*")):
            if layout.KEY_RE.match(stamp.name) and not self.entry_path(stamp.name).exists():
                stamp.unlink(missing_ok=True)  # a stamp is only a date: no lock needed
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


class _Freed:
    """The bytes deleting some trees frees: a file counts once every link of it is among
    them, so a venv's files hard-linked with uv's cache or another entry count nothing."""

    def __init__(self) -> None:
        self._alone = 0
        self._shared: dict[tuple[int, int], builtins.list[int]] = {}  # -> [size, nlink, seen]

    def add(self, path: Path) -> None:
        for directory, _, files in os.walk(path):
            for name in files:
                try:
                    info = (Path(directory) / name).lstat()
                except OSError:
                    continue
                if info.st_nlink <= 1:
                    self._alone += info.st_size
                    continue
                seen = self._shared.setdefault((info.st_dev, info.st_ino), [info.st_size, 0, 0])
                seen[1], seen[2] = info.st_nlink, seen[2] + 1

    @property
    def total(self) -> int:
        shared = self._shared.values()
        return self._alone + sum(size for size, links, seen in shared if seen >= links)
