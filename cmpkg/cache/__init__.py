"""The shared binary cache: store entries as signed OCI artifacts (docs/cache.md).

Public API: `CacheUrl`/`parse_url` (where a cache is), `push` (entries to a registry or a
directory), `Substituter` (tried by install before building an entry), and the signing keys
(`cmpkg.cache.signing`). Imported only by the commands that use a cache: it loads `oras`.
"""

from __future__ import annotations

from cmpkg.cache.url import CacheUrl, parse_url

__all__ = ["CacheUrl", "parse_url"]
