"""The content-addressed store of installed entries (see docs/store.md).

Public API: `Store`, `Entry`, `GcResult`, `VerifyResult`, `FileRecord`, `entry_key`,
`default_root`. The layout names live in `cmpkg.store.layout`.
"""

from __future__ import annotations

from cmpkg.store.keys import entry_key
from cmpkg.store.manifest import FileRecord, VerifyResult
from cmpkg.store.store import Entry, GcResult, Store, default_root

__all__ = [
    "Entry",
    "FileRecord",
    "GcResult",
    "Store",
    "VerifyResult",
    "default_root",
    "entry_key",
]
