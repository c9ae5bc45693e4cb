"""One blob's upload to a registry (the distribution protocol's POST, PATCH..., PUT), safe to
repeat after any failure and resumed where the registry says it stands.

Why not oras's `upload_blob` under a retry loop: the request that completes an upload
session (`PUT ...?digest=`) and the ones that append to it (`PATCH`) are not idempotent.
When their answer is lost (a socket timeout while a loaded registry commits, a reset), the
registry may have done them; repeating the PUT on the consumed session is answered 404
`BLOB_UPLOAD_UNKNOWN`, repeating a PATCH 416: a push that fails only under load. So a
failure whose outcome is unknown is never repeated blindly: the registry is asked (HEAD the
blob: if it was committed, done) and otherwise the upload starts again in a new session.
A lost PATCH answer is not resumed from the session's offset: the CNCF distribution
registry refuses a status query or a PATCH whose `_state` token is older than the session
(404 `BLOB_UPLOAD_INVALID`), so only a new session is sure to work. Requests whose
repetition is harmless (HEAD, GET, the POST that opens a session) go through the
registry's ordinary retries.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import requests

from cmpkg.cache.registry import TIMEOUT, UnreachableError

if TYPE_CHECKING:
    from cmpkg.cache.registry import Registry

CHUNK = 64 * 1024 * 1024  # larger blobs go in PATCHes of this size: some proxies cap bodies
_TRIES = 3  # upload sessions before the cache counts as unreachable
_OCTETS = {"Content-Type": "application/octet-stream"}


class _OutcomeUnknownError(Exception):
    """A request whose answer was lost or was a 5xx: the registry may or may not have done it."""


def upload(registry: Registry, path: Path, digest: str, size: int, chunk: int = CHUNK) -> str:
    """Put the blob at `path` into the registry unless it has it. Returns "present",
    "uploaded" or "committed-unseen" (an answer was lost, but the registry has it)."""
    if registry.has_blob(digest):
        return "present"
    why = ""
    for attempt in range(_TRIES):
        try:
            _upload_once(registry, path, digest, size, chunk)
            return "uploaded"
        except _OutcomeUnknownError as error:
            why = str(error)
            if registry.has_blob(digest):  # the lost answer was a success
                return "committed-unseen"
        time.sleep(0.2 * 2**attempt * random.uniform(0.5, 1.5))
    raise UnreachableError(f"upload of {digest} failed {_TRIES} times ({why})")


def _upload_once(registry: Registry, path: Path, digest: str, size: int, chunk: int) -> None:
    location = _start(registry)
    with path.open("rb") as fh:
        if size <= chunk:
            _finish(registry, location, digest, fh.read())
            return
        offset = 0
        while offset < size:
            location, offset = _append(registry, location, fh, offset, chunk)
        _finish(registry, location, digest, b"")


def _start(registry: Registry) -> str:
    container = registry._container()
    url = f"{registry.prefix}://{container.upload_blob_url()}"
    response = registry.client.do_request(url, "POST", headers={**_OCTETS, "Content-Length": "0"})
    registry._check(response, "blob upload")
    if not response.headers.get("Location"):
        raise UnreachableError("the registry opened an upload without a Location")
    return _next_location(registry, response, "")


def _append(registry: Registry, location: str, fh: Any, offset: int, chunk: int) -> tuple[str, int]:
    """One PATCH from `offset`: the session's next location and offset."""
    fh.seek(offset)
    data = fh.read(chunk)
    headers = {
        **_OCTETS,
        "Content-Range": f"{offset}-{offset + len(data) - 1}",
        "Content-Length": str(len(data)),
    }
    response = _once(registry, location, "PATCH", data, headers)
    if response.status_code == 416:  # the session holds other bytes than we counted
        raise _OutcomeUnknownError("the upload session is out of step")
    registry._check(response, "blob upload")
    return _next_location(registry, response, location), offset + len(data)


def _finish(registry: Registry, location: str, digest: str, data: bytes) -> None:
    sep = "&" if "?" in location else "?"
    headers = {**_OCTETS, "Content-Length": str(len(data))}
    response = _once(registry, f"{location}{sep}digest={digest}", "PUT", data, headers)
    registry._check(response, f"blob {digest}")


def _once(
    registry: Registry, url: str, method: str, data: bytes | None, headers: dict[str, str]
) -> requests.Response:
    """One request, never repeated: a lost answer or a 5xx is `_OutcomeUnknownError`."""
    try:
        response: requests.Response = registry.client.request_once(
            url, method, data=data, headers=headers
        )
    except requests.Timeout:
        raise _OutcomeUnknownError(f"no answer within {TIMEOUT:.0f} s") from None
    except requests.ConnectionError as error:
        if "refused" in str(error).lower():
            raise UnreachableError("connection refused") from None
        raise _OutcomeUnknownError(str(error).split(":")[-1].strip()) from None
    if response.status_code >= 500:
        raise _OutcomeUnknownError(f"HTTP {response.status_code}")
    return response


def _next_location(registry: Registry, response: requests.Response, current: str) -> str:
    """The session's next URL (each answer names one; a relative one is on the registry)."""
    location = response.headers.get("Location")
    if not location:
        return current
    return str(urljoin(f"{registry.prefix}://{registry.url.host}/", location))
