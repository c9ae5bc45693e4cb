"""Small metadata downloads (a mirror's manifest, lock and index files) with a size cap.

Owns: `get_capped(session, url, limit)`, which streams a body into memory and stops at
`limit + 1` bytes, and `read_capped(path, limit)`, the same for a local file
(RELIABILITY A.6). The cap is checked against the declared `Content-Length` before the body
is read and again while streaming, so a server that lies or sends no length never makes
cmpkg hold more than `limit + 1` bytes. Must not: retry, follow redirects to another host,
or write anything (the caller verifies the bytes and decides where they go).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import requests

from cmpkg.errors import CmpkgError
from cmpkg.fetch.http import short_error
from cmpkg.fetch.model import CHUNK

KIB = 1024
MIB = 1024 * KIB
_TIMEOUT = (15.0, 30.0)  # connect, and between two bytes: metadata is small


class MetadataTooLargeError(CmpkgError):
    def __init__(self, where: str, limit: int) -> None:
        super().__init__(
            "metadata-too-large",
            f"{where} is larger than {_size(limit)}; refused (read stopped at the cap)",
            hint="a tampered or broken mirror; check its address, or re-create it",
        )


def _size(limit: int) -> str:
    return f"{limit / MIB:g} MiB" if limit >= MIB else f"{limit} bytes"


def take_capped(chunks: Iterable[bytes], limit: int, where: str) -> bytes:
    """Join `chunks` but consume no more once past `limit` bytes (then raise)."""
    parts, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if total > limit:
            raise MetadataTooLargeError(where, limit)
        parts.append(chunk)
    return b"".join(parts)


def get_capped(session: requests.Session, url: str, limit: int) -> bytes:
    """The body of `url`, at most `limit` bytes, or CmpkgError (unreachable, status, too large)."""
    try:
        response = session.get(url, stream=True, timeout=_TIMEOUT, allow_redirects=False)
    except requests.RequestException as error:
        raise _unreachable(url, short_error(error)) from None
    with response:
        if response.status_code != 200:
            raise _unreachable(url, f"HTTP {response.status_code}")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise MetadataTooLargeError(url, limit)
        try:
            return take_capped(_body(response), limit, url)
        except (requests.RequestException, OSError) as error:
            raise _unreachable(url, short_error(error)) from None


def _body(response: requests.Response) -> Iterable[bytes]:
    # The raw bytes as stored (no transparent decompression: the cap is on what is sent).
    while chunk := response.raw.read(CHUNK, decode_content=False):
        yield chunk


def read_capped(path: Path, limit: int) -> bytes:
    """The bytes of a local metadata file, at most `limit` (checked before and while reading)."""
    with path.open("rb") as f:
        if os.fstat(f.fileno()).st_size > limit:
            raise MetadataTooLargeError(str(path), limit)
        return take_capped(iter(lambda: f.read(CHUNK), b""), limit, str(path))


def _unreachable(url: str, why: str) -> CmpkgError:
    return CmpkgError(
        "mirror-unreachable",
        f"cannot read {url}: {why}",
        hint="check the mirror's address and that it is being served",
    )
