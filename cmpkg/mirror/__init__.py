"""Offline mirrors: everything a lock needs in one directory, and using one.

Layout of a mirror (docs/mirror.md):

    mirror.json        the manifest, the root of trust: every file with sha256 and size,
                       the mirror's id, creation and expiry times
    cmpkg.lock         the lock the mirror was made for
    index/NN/...       a snapshot of the recipe index stack the lock was made from
    artifacts/NAME     every downloadable source of every locked package
    wheels/NAME.whl    every Python distribution of every locked target

Modules: `manifest` (the manifest's values, validation and caps), `freshness` (expiry,
clock, rollback), `opened` (a verified mirror in use), `remote` (HTTP mirrors and their
cache), `snapshot` (the index copy, checked against the lock), `create` (making one).
Every name from a manifest or lock that becomes a path goes through `cmpkg.paths`.
"""

from __future__ import annotations

from cmpkg.mirror.manifest import (
    BROKEN_HINT,
    FORMAT,
    LOCK,
    MANIFEST,
    FileInfo,
    Manifest,
    hash_file,
    parse_manifest,
    read_manifest,
)
from cmpkg.mirror.opened import Mirror, open_mirror
from cmpkg.mirror.verify import verify

__all__ = [
    "BROKEN_HINT",
    "FORMAT",
    "LOCK",
    "MANIFEST",
    "FileInfo",
    "Manifest",
    "Mirror",
    "hash_file",
    "open_mirror",
    "parse_manifest",
    "read_manifest",
    "verify",
]
