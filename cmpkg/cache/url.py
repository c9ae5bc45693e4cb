"""Cache URLs: `oci://HOST[:PORT]/REPO` (a registry), `https://...` or `file://...` (an OCI
image layout directory, read-only over HTTP). Pure.

A registry on a loopback address is spoken to in plain HTTP (a test or a lab's local
registry); any other registry only over HTTPS.
"""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import UsageError

_REPO = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)


@dataclass(frozen=True, slots=True)
class CacheUrl:
    text: str  # as given: what messages name (it never holds credentials)
    scheme: str  # "oci" | "https" | "http" | "file"
    host: str  # HOST[:PORT] of a registry or web server; "" for file
    repository: str  # oci: the repository; https/file: "" (the layout is the whole URL)
    path: Path | None = None  # file: the layout directory

    @property
    def loopback(self) -> bool:
        """On this machine: usable offline (RELIABILITY E.27), plain HTTP allowed."""
        if self.scheme == "file":
            return True
        name = self.host.rsplit(":", 1)[0].strip("[]") if self.host else ""
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    @property
    def writable(self) -> bool:
        return self.scheme in ("oci", "file")

    @property
    def registry_host(self) -> str:
        """The host as a credential file names it (`auths` keys)."""
        return self.host


def parse_url(text: str) -> CacheUrl:
    """`text` as a CacheUrl, or `bad-cache-url` saying what a cache URL looks like."""
    parts = urllib.parse.urlsplit(text.strip())
    if parts.username or parts.password:
        raise _bad(
            text, "must not hold credentials (use ~/.docker/config.json or CMPKG_CACHE_TOKEN)"
        )
    if parts.scheme == "oci":
        repository = parts.path.strip("/")
        if not parts.netloc or not _REPO.match(repository):
            raise _bad(text, "needs a host and a lowercase repository name")
        return CacheUrl(text, "oci", parts.netloc, repository)
    if parts.scheme in ("https", "http") and parts.netloc:
        url = CacheUrl(text.rstrip("/"), parts.scheme, parts.netloc, "")
        if parts.scheme == "http" and not url.loopback:
            raise _bad(text, "plain http is allowed only on a loopback address; use https")
        return url
    if parts.scheme == "file":
        return CacheUrl(text, "file", "", "", Path(urllib.request.url2pathname(parts.path)))
    if not parts.scheme and text.strip():
        return CacheUrl(text, "file", "", "", Path(text).expanduser().resolve())
    raise _bad(text, "has an unknown scheme")


def _bad(text: str, why: str) -> UsageError:
    return UsageError(
        "bad-cache-url",
        f"cache URL {text!r} {why}",
        hint="give oci://HOST[:PORT]/REPO, https://HOST/PATH or a directory (file://...)",
    )
