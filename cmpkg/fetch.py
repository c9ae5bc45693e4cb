"""Hash-verified downloads: mirrors in order, retries, resume, stall detection, offline mode.

Owns: turning an `Artifact` (name, URLs, expected sha256/size/md5, filename) into a verified
file in a destination directory, or a `CmpkgError` that names the artifact, every URL tried
and why each failed. Bytes are streamed into `<filename>.partial` (held under an OS lock while
in use) and renamed onto `<filename>` only after size and hash checks pass.

Must not: commit a file whose size or hash was not verified (when they are known), retry a
404/403, treat a hash mismatch from a mirror as a mere miss (it is reported as a tampered or
stale mirror), open a non-loopback socket when offline, or cap a download by wall-clock time
(models are many GB; only a stall - no progress for `stall_timeout` seconds - aborts one).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import ipaddress
import os
import random
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import requests
import urllib3

from cmpkg import envvars
from cmpkg.errors import CmpkgError

_CHUNK = 256 * 1024
_CONNECT_TIMEOUT = 15.0
_MIN_SPEED = 1024  # bytes/s averaged over stall_timeout; below it a trickle counts as stalled
_MAX_RETRY_AFTER = 60.0
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
PARTIAL_SUFFIX = ".partial"


@dataclass(frozen=True, slots=True)
class Artifact:
    """One file to fetch. `urls` are tried in order (primary first, then mirrors)."""

    name: str  # for messages: "resnet50 model (onnx)"
    urls: tuple[str, ...]
    filename: str  # the name in dest_dir; a plain name, no directories
    sha256: str | None = None
    size: int | None = None
    md5: str | None = None  # used only when sha256 is unknown (CM recipes often have md5 only)


@dataclass(frozen=True, slots=True)
class Fetched:
    path: Path
    sha256: str
    size: int
    url: str  # where the bytes came from ("" when an already verified file was reused)
    warnings: tuple[str, ...] = ()  # e.g. a mirror that served tampered bytes


class Progress(Protocol):
    """What fetch reports while downloading; a CLI draws a bar, tests may count."""

    def start(self, name: str, total: int | None) -> None: ...

    def advance(self, name: str, nbytes: int) -> None: ...

    def finish(self, name: str) -> None: ...


# ---------------------------------------------------------------------------- outcomes


class _RetryError(Exception):
    """A transient failure of one attempt (5xx, 429, reset, stall): retry the same URL."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _SkipError(Exception):
    """This URL cannot serve the artifact (404, 403, missing file): try the next one."""


class _IntegrityError(Exception):
    """This URL served the wrong bytes (hash or size): deleted, reported, next URL."""


@dataclass(slots=True)
class _Attempt:
    """The state of one URL's download across its retries."""

    url: str
    partial: IO[bytes]
    etag: str | None = None
    started_from_disk: bool = False
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- public API


def fetch(
    artifact: Artifact,
    dest_dir: Path,
    *,
    session: requests.Session | None = None,
    offline: bool = False,
    progress: Progress | None = None,
    stall_timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 0.5,
) -> Fetched:
    """Fetch `artifact` into `dest_dir / artifact.filename`, verified, or raise CmpkgError.

    A file already there whose sha256 (or md5) matches is reused without any network I/O.
    """
    _check_filename(artifact)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    dest = dest_dir / artifact.filename
    reused = _reuse(artifact, dest)
    if reused is not None:
        return reused
    urls = _allowed_urls(artifact, offline)
    own_session = session is None
    session = session or new_session()
    try:
        with _locked_partial(dest) as partial:
            # Another process may have finished it while we waited for the lock.
            reused = _reuse(artifact, dest)
            if reused is not None:
                return reused
            options = _Options(session, progress, stall_timeout, retries, backoff, offline)
            return _try_urls(artifact, urls, dest, partial, options)
    finally:
        if own_session:
            session.close()


def fetch_many(
    artifacts: Sequence[Artifact],
    dest_dir: Path,
    *,
    jobs: int = 4,
    offline: bool = False,
    progress: Progress | None = None,
    stall_timeout: float = 30.0,
    retries: int = 5,
    backoff: float = 0.5,
) -> list[Fetched]:
    """Fetch all `artifacts` with up to `jobs` in parallel; results in the input order.

    Every download runs to its end even if another fails (what was fetched stays cached);
    then one CmpkgError lists every failure.
    """
    session = new_session(pool=max(jobs, 1))

    def one(artifact: Artifact) -> Fetched | CmpkgError:
        try:
            return fetch(
                artifact,
                dest_dir,
                session=session,
                offline=offline,
                progress=progress,
                stall_timeout=stall_timeout,
                retries=retries,
                backoff=backoff,
            )
        except CmpkgError as error:
            return error

    try:
        with ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="fetch") as pool:
            results = list(pool.map(one, artifacts))
    finally:
        session.close()
    return _collect(results)


def _collect(results: list[Fetched | CmpkgError]) -> list[Fetched]:
    errors = [r for r in results if isinstance(r, CmpkgError)]
    if not errors:
        return [r for r in results if isinstance(r, Fetched)]
    if len(errors) == 1:
        raise errors[0]
    details = [f"{e.message}" for e in errors] + [d for e in errors for d in e.details]
    codes = {e.code for e in errors}
    code = "hash-mismatch" if "hash-mismatch" in codes else "fetch-failed"
    raise CmpkgError(code, f"{len(errors)} of {len(results)} artifacts could not be fetched",
                     hint=errors[0].hint, details=details)  # fmt: skip


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


def sweep_partials(directory: Path) -> list[Path]:
    """Delete `.partial` files that no live process holds locked; return what was deleted."""
    removed: list[Path] = []
    for path in sorted(Path(directory).glob("*" + PARTIAL_SUFFIX)):
        with contextlib.suppress(OSError), path.open("rb") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a live download owns it
            path.unlink()
            removed.append(path)
    return removed


# ---------------------------------------------------------------------------- checks


def _check_filename(artifact: Artifact) -> None:
    name = artifact.filename
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name:
        raise CmpkgError(
            "bad-artifact",
            f"{artifact.name}: filename {name!r} must be a plain file name",
            hint="this is a recipe bug; report it",
        )
    if not artifact.urls:
        raise CmpkgError("bad-artifact", f"{artifact.name} has no URL to fetch it from")


def _reuse(artifact: Artifact, dest: Path) -> Fetched | None:
    """A verified `dest` as a result, or None (unknown hashes never count as verified)."""
    if not (artifact.sha256 or artifact.md5) or not dest.is_file():
        return None
    with dest.open("rb") as fh:
        sha, md5, size = _hash_stream(fh)
    if artifact.size is not None and size != artifact.size:
        return None
    if (artifact.sha256 or "").lower() == sha or (
        not artifact.sha256 and (artifact.md5 or "").lower() == md5
    ):
        return Fetched(dest, sha, size, "")
    return None


def _hash_stream(fh: IO[bytes]) -> tuple[str, str, int]:
    sha, md5, size = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
    while chunk := fh.read(_CHUNK):
        sha.update(chunk)
        md5.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), md5.hexdigest(), size


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


def _allowed_urls(artifact: Artifact, offline: bool) -> tuple[str, ...]:
    if not offline:
        return artifact.urls
    allowed = tuple(u for u in artifact.urls if is_local(u) or is_loopback(u))
    if not allowed:
        raise CmpkgError(
            "offline-unavailable",
            f"{artifact.name} is not available offline ({artifact.filename})",
            hint="add a local mirror (`--mirror DIR`) that has it, or run without --offline",
            details=[f"looked in: {u} (not local; skipped offline)" for u in artifact.urls],
        )
    return allowed


# ---------------------------------------------------------------------------- locking


@contextlib.contextmanager
def _locked_partial(dest: Path) -> Iterator[IO[bytes]]:
    """The `.partial` file opened r+b and held under an exclusive OS lock.

    The lock dies with the process, so `sweep_partials` can tell a dead download from a
    live one. After locking we check the path still names our inode: a sweeper may have
    deleted it between our open() and flock().
    """
    path = dest.with_name(dest.name + PARTIAL_SUFFIX)
    while True:
        fh = _open_rw(path)
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            same = path.stat().st_ino == os.fstat(fh.fileno()).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        fh.close()
    try:
        yield fh
    finally:
        fh.close()  # closing releases the lock


def _open_rw(path: Path) -> IO[bytes]:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    return os.fdopen(fd, "r+b")


# ---------------------------------------------------------------------------- the URL loop


@dataclass(frozen=True, slots=True)
class _Options:
    session: requests.Session
    progress: Progress | None
    stall_timeout: float
    retries: int
    backoff: float
    offline: bool = False


def _try_urls(
    artifact: Artifact, urls: Sequence[str], dest: Path, partial: IO[bytes], opts: _Options
) -> Fetched:
    failures: list[str] = []
    tampered: list[str] = []
    for url in urls:
        attempt = _Attempt(url, partial, started_from_disk=_size(partial) > 0)
        try:
            result = _fetch_url(artifact, attempt, dest, opts)
        except _IntegrityError as error:
            _truncate(partial)
            tampered.append(f"{url}: {error}")
            continue
        except (_SkipError, _RetryError) as error:
            failures.append(f"{url}: {error}")
            continue
        warnings = tuple(f"tampered or stale mirror: {t}" for t in tampered)
        for warning in warnings:
            _warn(f"{artifact.name}: {warning}")
        return Fetched(result.path, result.sha256, result.size, url, warnings)
    _discard_if_empty(dest)
    raise _failure(artifact, failures, tampered)


def _failure(artifact: Artifact, failures: list[str], tampered: list[str]) -> CmpkgError:
    if tampered:
        return CmpkgError(
            "hash-mismatch",
            f"{artifact.name} ({artifact.filename}): the downloaded bytes do not match the "
            "recorded hash or size",
            hint="a tampered or stale mirror, or a wrong hash in the recipe; the bytes were "
            "deleted. Report it to the mirror's owner or the recipe's maintainer",
            details=[f"tampered or stale mirror: {t}" for t in tampered] + failures,
        )
    return CmpkgError(
        "fetch-failed",
        f"could not fetch {artifact.name} ({artifact.filename}) from any of "
        f"{len(failures)} source{'s' if len(failures) != 1 else ''}",
        hint="check the network or the mirror; `--mirror DIR` adds a local source",
        details=failures,
    )


def _discard_if_empty(dest: Path) -> None:
    # A non-empty partial is kept: the next run resumes it (and verifies the whole file).
    path = dest.with_name(dest.name + PARTIAL_SUFFIX)
    with contextlib.suppress(FileNotFoundError):
        if path.stat().st_size == 0:
            path.unlink()


def _warn(text: str) -> None:
    from cmpkg import console

    console.message("warning", text)


def _fetch_url(artifact: Artifact, attempt: _Attempt, dest: Path, opts: _Options) -> Fetched:
    """Download one URL with its retries; verify; rename onto `dest`."""
    if is_local(attempt.url):
        _copy_local(artifact, attempt)
    else:
        _download_with_retries(artifact, attempt, opts)
    try:
        return _verify_and_commit(artifact, attempt, dest)
    except _IntegrityError:
        if not attempt.started_from_disk:
            raise
        # The prefix may have come from another server's version of the file: start over once.
        _truncate(attempt.partial)
        attempt.started_from_disk = False
        return _fetch_url(artifact, attempt, dest, opts)


def _download_with_retries(artifact: Artifact, attempt: _Attempt, opts: _Options) -> None:
    for number in range(opts.retries + 1):
        try:
            _download(artifact, attempt, opts)
            return
        except _RetryError as error:
            attempt.notes.append(error.reason)
            if number == opts.retries:
                raise _RetryError(
                    f"{error.reason} (gave up after {opts.retries} retries)"
                ) from None
            time.sleep(_delay(number, error.retry_after, opts.backoff))


def _delay(number: int, retry_after: float | None, backoff: float) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins (capped)."""
    if retry_after is not None:
        return min(retry_after, _MAX_RETRY_AFTER)
    return float(backoff * (2**number) * random.uniform(0.5, 1.5))


# ---------------------------------------------------------------------------- HTTP


def _download(artifact: Artifact, attempt: _Attempt, opts: _Options) -> None:
    """One HTTP attempt, resuming from what the partial file holds."""
    offset = _size(attempt.partial)
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    if offset and attempt.etag:
        headers["If-Range"] = attempt.etag
    try:
        response = opts.session.get(
            attempt.url,
            headers=headers,
            stream=True,
            timeout=(_CONNECT_TIMEOUT, opts.stall_timeout),
            # Offline, a loopback mirror must not bounce us to the network.
            allow_redirects=not opts.offline,
        )
    except requests.exceptions.Timeout:
        raise _RetryError(f"stalled: no response for {opts.stall_timeout:g}s") from None
    except requests.exceptions.RequestException as error:
        raise _RetryError(f"connection failed: {_short(error)}") from None
    with response:
        offset = _check_status(response, attempt, offset)
        _stream_body(artifact, response, attempt, offset, opts)


def _check_status(response: requests.Response, attempt: _Attempt, offset: int) -> int:
    """The offset the body starts at (0 when the server restarts us), or raise."""
    status = response.status_code
    if status in _RETRY_STATUS:
        raise _RetryError(f"HTTP {status}", _retry_after(response.headers.get("Retry-After")))
    if status == 416 and offset:
        _truncate(attempt.partial)  # our prefix is longer than the file: start over
        raise _RetryError("HTTP 416 on resume; restarting")
    if 300 <= status < 400:
        where = response.headers.get("Location", "?")
        raise _SkipError(f"HTTP {status} redirect to {where} (not followed offline)")
    if status not in (200, 206):
        raise _SkipError(f"HTTP {status}")
    etag = response.headers.get("ETag")
    if status == 206 and (_range_start(response) != offset or _etag_changed(attempt, etag)):
        _truncate(attempt.partial)
        raise _RetryError("resume answered with the wrong range or a changed file; restarting")
    attempt.etag = etag or attempt.etag
    if status == 200 and offset:
        _truncate(attempt.partial)  # server ignored Range (or If-Range failed): full body
        return 0
    return offset


def _etag_changed(attempt: _Attempt, etag: str | None) -> bool:
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
    attempt: _Attempt,
    offset: int,
    opts: _Options,
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
            partial.write(chunk)
            written += len(chunk)
            if opts.progress:
                opts.progress.advance(artifact.name, len(chunk))
    finally:
        partial.flush()
        if opts.progress:
            opts.progress.finish(artifact.name)
    if limit is not None and written >= limit:
        raise _IntegrityError(f"body is longer than the recorded size {artifact.size}")
    if expected_end is not None and written < expected_end:
        raise _RetryError(f"connection dropped at byte {written} of {expected_end}")


def _content_length(response: requests.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _chunks(
    response: requests.Response, stall_timeout: float, limit: int | None, offset: int
) -> Iterator[bytes]:
    """The raw body in pieces as they arrive, up to `limit` total bytes.

    Raises _RetryError("stalled") when no byte came for `stall_timeout` seconds (the socket read
    timeout) or when fewer than _MIN_SPEED bytes/s arrived over a whole window (a trickle).
    """
    raw: urllib3.HTTPResponse = response.raw
    total, window_start, window_bytes = offset, time.monotonic(), 0
    while limit is None or total < limit:
        want = _CHUNK if limit is None else min(_CHUNK, limit - total)
        try:
            chunk = raw.read1(want, decode_content=False)
        except (urllib3.exceptions.ReadTimeoutError, TimeoutError):
            raise _RetryError(f"stalled: no data for {stall_timeout:g}s") from None
        except (urllib3.exceptions.HTTPError, requests.RequestException, OSError) as error:
            raise _RetryError(f"connection reset: {_short(error)}") from None
        if not chunk:
            return
        total += len(chunk)
        window_bytes += len(chunk)
        now = time.monotonic()
        if now - window_start >= stall_timeout:
            if window_bytes < _MIN_SPEED * stall_timeout:
                raise _RetryError(f"stalled: under {_MIN_SPEED} bytes/s for {stall_timeout:g}s")
            window_start, window_bytes = now, 0
        yield chunk


def _short(error: BaseException) -> str:
    text = str(error)
    return text if len(text) < 200 else text[:197] + "..."


# ---------------------------------------------------------------------------- local files


def _local_path(url: str) -> Path:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        return Path(urllib.request.url2pathname(parts.path))
    return Path(url)


def _copy_local(artifact: Artifact, attempt: _Attempt) -> None:
    path = _local_path(attempt.url)
    limit = artifact.size + 1 if artifact.size is not None else None
    _truncate(attempt.partial)
    try:
        with path.open("rb") as src:
            copied = _copy_limited(src, attempt.partial, limit)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise _SkipError("no such file") from None
    except PermissionError:
        raise _SkipError("permission denied") from None
    if limit is not None and copied >= limit:
        raise _IntegrityError(f"file is longer than the recorded size {artifact.size}")


def _copy_limited(src: IO[bytes], dst: IO[bytes], limit: int | None) -> int:
    copied = 0
    while limit is None or copied < limit:
        want = _CHUNK if limit is None else min(_CHUNK, limit - copied)
        chunk = src.read(want)
        if not chunk:
            break
        dst.write(chunk)
        copied += len(chunk)
    dst.flush()
    return copied


# ---------------------------------------------------------------------------- verify, commit


def _verify_and_commit(artifact: Artifact, attempt: _Attempt, dest: Path) -> Fetched:
    partial = attempt.partial
    partial.seek(0)
    sha, md5, size = _hash_stream(partial)
    _check_integrity(artifact, sha, md5, size)
    os.fsync(partial.fileno())
    # Rename while still holding the lock on the inode: no sweeper can see it half-done.
    partial_path = dest.with_name(dest.name + PARTIAL_SUFFIX)
    partial_path.replace(dest)
    return Fetched(dest, sha, size, attempt.url)


def _check_integrity(artifact: Artifact, sha: str, md5: str, size: int) -> None:
    if artifact.size is not None and size != artifact.size:
        raise _IntegrityError(f"size {size} differs from the recorded size {artifact.size}")
    if artifact.sha256 and artifact.sha256.lower() != sha:
        raise _IntegrityError(f"sha256 mismatch: expected {artifact.sha256.lower()}, got {sha}")
    if not artifact.sha256 and artifact.md5 and artifact.md5.lower() != md5:
        raise _IntegrityError(f"md5 mismatch: expected {artifact.md5.lower()}, got {md5}")


def _size(fh: IO[bytes]) -> int:
    return os.fstat(fh.fileno()).st_size


def _truncate(fh: IO[bytes]) -> None:
    fh.seek(0)
    fh.truncate()


# ---------------------------------------------------------------------------- progress bar


class StderrProgress:
    """A one-line progress bar on stderr: one line for all downloads, redrawn at most 10/s."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._totals: dict[str, int | None] = {}
        self._done: dict[str, int] = {}
        self._drawn = 0.0

    def start(self, name: str, total: int | None) -> None:
        with self._lock:
            self._totals[name] = total
            self._done[name] = 0

    def advance(self, name: str, nbytes: int) -> None:
        with self._lock:
            self._done[name] = self._done.get(name, 0) + nbytes
            if time.monotonic() - self._drawn >= 0.1:
                self._draw()

    def finish(self, name: str) -> None:
        with self._lock:
            self._totals.pop(name, None)
            self._done.pop(name, None)
            self._stream.write("\r\x1b[K")
            if self._totals:
                self._draw()
            self._stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        done = sum(self._done.values())
        total = sum(t for t in self._totals.values() if t)
        names = ", ".join(sorted(self._totals))[:40]
        mib = f"{done / 2**20:.1f}/{total / 2**20:.1f} MiB" if total else f"{done / 2**20:.1f} MiB"
        self._stream.write(f"\r\x1b[Kfetching {names}  {mib}")
        self._stream.flush()


def default_progress(*, json_output: bool = False) -> Progress | None:
    """A bar only for a person watching: stderr is a TTY, no --json, no CMPKG_NO_PROGRESS."""
    if json_output or envvars.get("CMPKG_NO_PROGRESS") == "1" or not sys.stderr.isatty():
        return None
    return StderrProgress()
