"""The content-addressed store of installed entries (see docs/store.md).

Public API: `Store`, `Entry`, `GcResult`, `VerifyResult`, `FileRecord`, `entry_key`,
`default_root`. The layout names live in `cmpkg.store.layout`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cmpkg.store.keys import entry_key

if TYPE_CHECKING:
    from cmpkg.store.manifest import FileRecord, VerifyResult
    from cmpkg.store.store import Entry, GcResult, Store, default_root

# Loaded on first use: the pure planner imports `cmpkg.store.keys`, and importing that must
# not import the store's locking and I/O modules (tests/architecture/test_layering.py).
_LAZY = {
    "FileRecord": "cmpkg.store.manifest",
    "VerifyResult": "cmpkg.store.manifest",
    "Entry": "cmpkg.store.store",
    "GcResult": "cmpkg.store.store",
    "Store": "cmpkg.store.store",
    "default_root": "cmpkg.store.store",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'cmpkg.store' has no attribute {name!r}")


__all__ = [
    "Entry",
    "FileRecord",
    "GcResult",
    "Store",
    "VerifyResult",
    "default_root",
    "entry_key",
]
