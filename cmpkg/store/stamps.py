"""Taking an entry's manifest and stat table at commit, and recording a re-taken table later.

Owns: the two moments the store writes an entry's stamps. At commit, `recorded` hashes
every file under a stamp that held while it was read: a Python environment's files are hard
links into uv's cache (docs/store.md, "Python environments"), shared with other processes
that may link the same wheel elsewhere while we hash, and a table taken after such a move
would vouch for bytes nobody read. After a check that re-hashed moved files and found them
unchanged, `rewrite` records the re-taken table in the entry's `cmpkg-stat.bin` and
`cmpkg-entry.json`, so the next check (and the no-op install) is cheap again; the same
path gives an entry of an older cmpkg its table or sidecar.

Must not: record a stamp the check did not certify (`fingerprint.check` decides which), or
write into an entry that a remover or gc holds (it takes the entry's lock, shared, without
waiting: `cmpkg run` holds it shared while the app runs; `rm`/`gc` take it exclusively).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError
from cmpkg.store import fingerprint, layout, manifest, readonly
from cmpkg.store.locks import os_lock
from cmpkg.store.manifest import FileRecord

#: How often a commit re-hashes files whose stamp moved while they were read before it
#: gives up (each round reads only the files that moved).
ROUNDS = 5

#: Files whose writer hashed them while writing: relative path -> (the file's stamp when
#: its writer closed it, `(size, mtime_ns, ctime_ns, inode)`, the sha256 of what it wrote).
Vouched = Mapping[str, tuple[tuple[int, int, int, int], str]]


@dataclass(frozen=True)
class Built:
    """What a build may return instead of its plain result: the result, and the files it
    vouches for (`cmpkg.archive.extract(vouch=True)` of a pulled entry), whose hashes the
    commit takes instead of reading them again while their stamps still hold."""

    result: Mapping[str, Any]
    vouched: Vouched = field(default_factory=dict)


def recorded(root: Path, vouched: Vouched | None = None) -> tuple[list[FileRecord], dict[str, Any]]:
    """The manifest and stat table of the frozen tree `root`, every file's hash read
    between two equal stamps of it. Call it after the last change to the tree (chmod too).

    A file in `vouched` whose stamp in the table is the one its writer saw on closing it
    is recorded with the writer's hash, unread: no later write, chmod, rename, link or
    replacement can leave both its inode and its ctime as they were (unprivileged code
    cannot set a ctime), so the bytes are those the writer hashed. Any other file is read."""
    paths = manifest.paths(root)
    table = fingerprint.take(str(root), paths)
    files = _records(root, paths, table["files"], vouched or {})
    for _ in range(ROUNDS):
        again = fingerprint.take(str(root), paths)
        if again == table:
            return files, table
        if (again["dirs"], again["top"]) != (table["dirs"], table["top"]):
            break  # names came or went in a build directory nobody else should write
        pairs = zip(table["files"], again["files"], strict=True)
        moved = [i for i, (a, b) in enumerate(pairs) if a != b]
        files = list(files)
        for index in moved:
            files[index] = manifest.record_one(root, paths[index])
        table = again
    raise CmpkgError(
        "entry-unsettled",
        f"the files of {root.name} kept changing while the store recorded them",
        hint="another process is writing into cmpkg's home (its store or uv's cache); "
        "let it finish, then install again",
    )


def _records(
    root: Path, paths: list[str], stamps: list[list[int]], vouched: Vouched
) -> list[FileRecord]:
    """The records of `paths` (stamped `stamps`): vouched-for files from their writer's
    hash, the others read."""
    pairs = zip(paths, stamps, strict=True)
    held = [rel in vouched and list(vouched[rel][0]) == s for rel, s in pairs]
    read = iter(manifest.record(root, [rel for rel, h in zip(paths, held, strict=True) if not h]))
    return [
        FileRecord(rel, s[0], vouched[rel][1]) if h else next(read)
        for rel, s, h in zip(paths, stamps, held, strict=True)
    ]


def rewrite(lock: Path, entry_path: Path, metadata: Mapping[str, Any], table: Any) -> None:
    """Record `table` for the complete entry at `entry_path` (whose parsed metadata is
    `metadata`): the sidecar first, then `cmpkg-entry.json` if its table differs, each by an
    atomic rename; a killed writer's temp files there are swept first. Best effort: an
    entry that is being removed, or a store we may not write, stays slow, not broken."""
    with os_lock(lock, shared=True, blocking=False) as held, contextlib.suppress(OSError):
        if held:
            _record(entry_path, metadata, table)


def upgrade(lock: Path, entry_path: Path, metadata: Mapping[str, Any]) -> None:
    """Give an entry of a cmpkg that wrote no table (format 1), after `verify` found it
    intact, its table: the tree is frozen first (chmod moves ctimes), then stamped."""
    with os_lock(lock, shared=True, blocking=False) as held, contextlib.suppress(OSError):
        if held:
            readonly.freeze_below(entry_path)
            paths = [f["path"] for f in metadata.get("files", ())]
            _record(entry_path, metadata, fingerprint.take(str(entry_path), paths))


def _record(entry_path: Path, metadata: Mapping[str, Any], table: Any) -> None:
    readonly.thaw_top(entry_path)
    try:
        atomic.sweep(entry_path, of=layout.OWN)
        paths = [f["path"] for f in metadata.get("files", ())]
        # Sidecar first: if we die between the two, the sidecar vouches for stamps a check
        # verified, and the old table in the metadata only costs one more verified re-stamp.
        write(entry_path / layout.STAT, fingerprint.sidecar(paths, table))
        if metadata.get("stat") != table:
            write(
                entry_path / layout.METADATA, dumps({**metadata, "format": FORMAT, "stat": table})
            )
    finally:
        readonly.freeze_top(entry_path, layout.OWN)


FORMAT = 2  # of cmpkg-entry.json; 2 added the stat table ("stat"), 1 is still read


def dumps(value: Any) -> bytes:
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def write(path: Path, data: bytes) -> None:
    """Temp file (locked), fsync, rename over `path`, fsync the directory (cmpkg.atomic)."""
    atomic.write_bytes(path, data, durable=True)
