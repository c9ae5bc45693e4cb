"""Store keys: the sha256 of an entry's inputs in canonical JSON.

Owns: the canonical form and the hash. The caller decides WHAT goes in (recipe digest,
version, variant values, dependency keys, the target facts that matter); this module only
guarantees that equal inputs give equal keys and that any difference gives a new key.

Canonical form: `json.dumps(inputs, sort_keys=True, separators=(",", ":"),
ensure_ascii=False, allow_nan=False)` encoded as UTF-8, prefixed by `cmpkg-entry-key-v1\n`.
Tuples hash like lists; dict keys must be strings; NaN and non-JSON values are refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cmpkg.errors import CmpkgError
from cmpkg.store.layout import KEY_RE

_PREFIX = b"cmpkg-entry-key-v1\n"


def canonical_json(inputs: Mapping[str, Any]) -> bytes:
    import json  # here: the no-op install and `cmpkg run` check keys but never make one

    try:
        text = json.dumps(
            inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        )
    except (TypeError, ValueError) as error:
        raise CmpkgError(
            "bad-key-inputs",
            f"store key inputs are not plain JSON: {error}",
            hint="this is a cmpkg bug; please report it",
        ) from None
    return text.encode("utf-8")


def entry_key(inputs: Mapping[str, Any]) -> str:
    """The 64-hex-digit store key of an entry built from `inputs`."""
    import hashlib  # here: `cmpkg run` checks keys (`check_key`) but never makes one

    return hashlib.sha256(_PREFIX + canonical_json(inputs)).hexdigest()


def check_key(key: str) -> str:
    if not KEY_RE.match(key):
        raise CmpkgError("bad-key", f"{key!r} is not a store key (64 lowercase hex digits)")
    return key
