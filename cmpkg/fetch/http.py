"""One HTTP attempt of a download: status handling, Range/ETag resume, stall detection.

Owns: a requests Session set up for artifacts, and `download(artifact, attempt, opts)`,
which appends to the attempt's partial file and raises RetryError / SkipError /
IntegrityError. Must not: retry (the caller does), verify hashes, or follow redirects
offline.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import requests
import urllib3

from cmpkg.fetch import huggingface
from cmpkg.fetch.model import (
    CHUNK,
    Artifact,
    Attempt,
    IntegrityError,
    Options,
    RetryError,
    SkipError,
    check_cancelled,
    file_size,
    truncate,
)

_CONNECT_TIMEOUT = 15.0
_MIN_SPEED = 1024  # bytes/s averaged over stall_timeout; below it a trickle counts as stalled
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})


def new_session(pool: int = 4) -> requests.Session:
    """A Session that reuses connections; retries are ours, so urllib3's are off."""
    session = requests.Session()
    adapter = requests.adapters.HTTPAdapter(pool_connections=pool, pool_maxsize=pool, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # Identity: we hash the bytes as stored, never a transparently decoded stream.
    session.headers["Accept-Encoding"] = "identity"
    session.headers["User-Agent"] = "cmpkg"
    return session


def download(artifact: Artifact, attempt: Attempt, opts: Options) -> None:
    """One HTTP attempt, resuming from what the partial file holds."""
    offset = file_size(attempt.partial)
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    if offset and attempt.etag:
        headers["If-Range"] = attempt.etag
    # A hub URL goes to HF_ENDPOINT with the user's token; the recorded URL stays canonical.
    url, auth = huggingface.request_for(attempt.url)
    try:
        response = opts.session.get(
            url,
            headers=headers | auth,
            stream=True,
            timeout=(_CONNECT_TIMEOUT, opts.stall_timeout),
            # Offline, a loopback mirror must not bounce us to the network.
            allow_redirects=not opts.offline,
        )
    except requests.exceptions.Timeout:
        raise RetryError(f"stalled: no response for {opts.stall_timeout:g}s") from None
    except requests.exceptions.RequestException as error:
        raise RetryError(f"connection failed: {short_error(error)}") from None
    with response:
        offset = _check_status(response, attempt, offset)
        _stream_body(artifact, response, attempt, offset, opts)


def _check_status(response: requests.Response, attempt: Attempt, offset: int) -> int:
    """The offset the body starts at (0 when the server restarts us), or raise."""
    status = response.status_code
    if status in _RETRY_STATUS:
        raise RetryError(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
    if status == 416 and offset:
        truncate(attempt.partial)  # our prefix is longer than the file: start over
        raise RetryError("HTTP 416 on resume; restarting")
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        raise SkipError(f"HTTP {status} redirect to {where} (not followed offline)")
    if status not in (200, 206):
        raise SkipError(f"HTTP {status}")
    etag = response.headers.get("ETag")
    if status == 206 and (_range_start(response) != offset or _etag_changed(attempt, etag)):
        truncate(attempt.partial)
        raise RetryError("resume answered with the wrong range or a changed file; restarting")
    attempt.etag = etag or attempt.etag
    if status == 200 and offset:
        truncate(attempt.partial)  # server ignored Range (or If-Range failed): full body
        return 0
    return offset


def _etag_changed(attempt: Attempt, etag: str | None) -> bool:
    return bool(attempt.etag and etag and etag != attempt.etag)


def _range_start(response: requests.Response) -> int | None:
    # "Content-Range: bytes 100-999/1000"
    value = response.headers.get("Content-Range", "")
    unit, _, rest = value.partition(" ")
    start = rest.partition("-")[0]
    return int(start) if unit == "bytes" and start.isdigit() else None


def _retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _stream_body(
    artifact: Artifact,
    response: requests.Response,
    attempt: Attempt,
    offset: int,
    opts: Options,
) -> None:
    length = _content_length(response)
    expected_end = offset + length if length is not None else None
    # Never read past size + 1: one byte too many is enough to refuse the body.
    limit = artifact.size + 1 if artifact.size is not None else None
    partial = attempt.partial
    partial.seek(offset)
    if opts.progress:
        opts.progress.start(artifact.name, artifact.size or expected_end)
        opts.progress.advance(artifact.name, offset)
    written = offset
    try:
        for chunk in _chunks(response, opts.stall_timeout, limit, offset):
            check_cancelled(opts)
            partial.write(chunk)
            written += len(chunk)
            if opts.progress:
                opts.progress.advance(artifact.name, len(chunk))
    finally:
        partial.flush()
        if opts.progress:
            opts.progress.finish(artifact.name)
    if limit is not None and written >= limit:
        raise IntegrityError(f"body is longer than the recorded size {artifact.size}")
    if expected_end is not None and written < expected_end:
        raise RetryError(f"connection dropped at byte {written} of {expected_end}")


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _chunks(
    response: requests.Response, stall_timeout: float, limit: int | None, offset: int
) -> Iterator[bytes]:
    """The raw body in pieces as they arrive, up to `limit` total bytes.

    Raises RetryError("stalled") when no byte came for `stall_timeout` seconds (the socket read
    timeout) or when fewer than _MIN_SPEED bytes/s arrived over a whole window (a trickle).
    """
    raw: urllib3.HTTPResponse = response.raw
    total, window_start, window_bytes = offset, time.monotonic(), 0
    while limit is None or total < limit:
        want = CHUNK if limit is None else min(CHUNK, limit - total)
        try:
            chunk = raw.read1(want, decode_content=False)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise RetryError(f"stalled: no data for {stall_timeout:g}s") from None
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            raise RetryError(f"connection reset: {short_error(error)}") from None
        if not chunk:
            return
        total += len(chunk)
        window_bytes += len(chunk)
        now = time.monotonic()
        if now - window_start >= stall_timeout:
            if window_bytes < _MIN_SPEED * stall_timeout:
                raise RetryError(f"stalled: under {_MIN_SPEED} bytes/s for {stall_timeout:g}s")
            window_start, window_bytes = now, 0
        yield chunk


def short_error(error: BaseException) -> str:
    """A connection library's exception as the words that matter ("connection refused",
    "name or service not known"), never its chain of wrapper reprs: the innermost OS error
    of the chain when there is one, else the message cut to 200 characters."""
    root = _os_cause(error)
    if root is not None:
        return str(root.strerror).lower()
    text = str(error)
    return text if len(text) < 200 else text[:197] + "..."


def _os_cause(error: BaseException) -> OSError | None:
    """The innermost OSError with a message among `error`'s causes (requests wraps urllib3,
    which wraps the socket error, in `reason`, `args`, `__cause__` or `__context__`)."""
    found: OSError | None = None
    seen: set[int] = set()
    stack: list[BaseException | None] = [error]
    while stack:
        current = stack.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            found = current
        reason = getattr(current, "reason", None)
        stack += [current.__cause__, current.__context__]
        stack += [a for a in (reason, *current.args) if isinstance(a, BaseException)]
    return found
