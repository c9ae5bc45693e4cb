"""What a cache is to push and pull: a registry or an OCI image layout, behind one protocol."""

from __future__ import annotations

from typing import Any, Protocol

import requests

from cmpkg.cache.url import CacheUrl


class Source(Protocol):
    url: CacheUrl

    @property
    def session(self) -> requests.Session | None: ...

    def manifest(self, ref: str) -> tuple[bytes, str] | None: ...
    def has_manifest(self, ref: str) -> str | None: ...
    def blob(self, digest: str, limit: int) -> bytes: ...
    def blob_url(self, digest: str) -> str: ...
    def has_blob(self, digest: str) -> bool: ...
    def put_blob(self, path: str, descriptor: dict[str, Any]) -> None: ...
    def put_manifest(self, ref: str, data: bytes) -> str: ...


def open_source(url: CacheUrl) -> Source:
    if url.scheme == "oci":
        from cmpkg.cache.credentials import for_host
        from cmpkg.cache.registry import Registry

        return Registry(url, for_host(url.host))
    from cmpkg.cache.layout import Layout

    return Layout(url)
