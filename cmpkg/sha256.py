"""The sha256 of the small things every command hashes on its way in (a record's name, a
project file, the compiled index's cache key).

Owns: taking those digests without `hashlib`, whose import loads OpenSSL (2-3 ms, a twentieth
of a no-op install: docs/benchmarks.md, issue #14). The interpreter's own sha256 (HACL* in
`_sha2` since 3.12, `_sha256` before) gives the same digest, slower per byte than OpenSSL's,
which does not matter for inputs of a few kB.

Must not: be used for large files (entries, wheels, archives): `hashlib` is the faster
hasher there, and those paths import it anyway.
"""

from __future__ import annotations

import sys

try:
    if sys.version_info >= (3, 12):
        from _sha2 import sha256 as _new
    else:
        from _sha256 import sha256 as _new  # type: ignore[import-not-found, unused-ignore]
except ImportError:  # an interpreter built without them: the same digest, from OpenSSL
    from hashlib import sha256 as _new


def hexdigest(data: bytes) -> str:
    """The sha256 of `data` as 64 lowercase hex digits."""
    return str(_new(data).hexdigest())
