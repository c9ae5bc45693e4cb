"""The on-disk names of the store, in one place, so nothing else spells them.

Owns: the layout version, the directory names under the store root and the reserved file
names inside an entry. Must not do I/O: `cmpkg.archive` imports the reserved names to refuse
archives that carry them, and that import must stay free.
"""

from __future__ import annotations

import re

# Bump when the layout or the metadata format changes: an old cmpkg never reads a new store.
LAYOUT = "store-v1"

ENTRIES = "entries"  # complete (and possibly half-committed) entries, one directory per key
LOCKS = "locks"  # one lock file per key; OS locks, so a killed holder releases them
TMP = "tmp"  # build directories `<key>.<random>` and trash `trash-<random>`
ROOTS = "roots"  # `<name>.json`: the keys a project or environment references
DOWNLOADS = "downloads"  # fetched artifacts and their `.partial` files
USED = "used"  # `<key>`: an empty file whose mtime is the entry's last use (run, reuse)

METADATA = "cmpkg-entry.json"  # written before the rename; holds the file manifest
MARKER = ".cmpkg-complete"  # written LAST: an entry is visible only when this exists
STAT = "cmpkg-stat.bin"  # the stat table alone, marshalled: a no-op reads this, not METADATA
LOCK_SUFFIX = ".lock"
PARTIAL_SUFFIX = ".partial"

# Names no archive member and no build output may carry: they would let untrusted bytes
# mark an entry complete or replace cmpkg's own metadata.
RESERVED_NAMES = frozenset(
    {METADATA, MARKER, STAT, MARKER + ".tmp", METADATA + ".tmp", ".cmpkg-lock"}
)
#: The store's own files in an entry's top directory (never part of its manifest).
OWN = frozenset({METADATA, MARKER, STAT})

KEY_RE = re.compile(r"^[0-9a-f]{64}$")
