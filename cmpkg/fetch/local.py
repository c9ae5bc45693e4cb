"""Mirrors on disk (file:// URLs and plain paths) and the offline notion of "local".

Owns: telling local and loopback URLs from the rest, and copying a local file into the
partial file with the same size cap as HTTP. Must not: touch the network.
"""

from __future__ import annotations

import ipaddress
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO

from cmpkg.fetch.model import CHUNK, Artifact, Attempt, IntegrityError, SkipError, truncate


def is_local(url: str) -> bool:
    """file:// URLs and plain paths: mirrors on disk."""
    scheme = urllib.parse.urlsplit(url).scheme
    return scheme == "file" or scheme == "" or (len(scheme) == 1 and url[1:2] == ":")


def is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _local_path(url: str) -> Path:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    return Path(url)


def copy_local(artifact: Artifact, attempt: Attempt) -> None:
    path = _local_path(attempt.url)
    limit = artifact.size + 1 if artifact.size is not None else None
    truncate(attempt.partial)
    try:
        with path.open("rb") as src:
            copied = _copy_limited(src, attempt.partial, limit)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise SkipError("no such file") from None
    except PermissionError:
        raise SkipError("permission denied") from None
    if limit is not None and copied >= limit:
        raise IntegrityError(f"file is longer than the recorded size {artifact.size}")


def _copy_limited(src: IO[bytes], dst: IO[bytes], limit: int | None) -> int:
    copied = 0
    while limit is None or copied < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - copied)
        chunk = src.read(want)
        if not chunk:
            break
        dst.write(chunk)
        copied += len(chunk)
    dst.flush()
    return copied
