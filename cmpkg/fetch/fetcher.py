"""The fetch loop: reuse a verified file, or try each URL with retries, verify, commit.

Owns: the order of sources, retry policy (backoff with jitter, Retry-After), verification
of size and hashes, the rename into place, and the error a user sees. Must not: commit
unverified bytes, or treat a mirror's wrong bytes as a mere miss.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import requests

from cmpkg.errors import CmpkgError
from cmpkg.fetch.http import download, new_session
from cmpkg.fetch.local import copy_local, is_local, is_loopback
from cmpkg.fetch.model import (
    PARTIAL_SUFFIX,
    Artifact,
    Attempt,
    Fetched,
    IntegrityError,
    Options,
    Progress,
    RetryError,
    SkipError,
    check_cancelled,
    file_size,
    hash_stream,
    truncate,
)
from cmpkg.fetch.partial import locked_partial
from cmpkg.paths import part_problem, safe_join

_MAX_RETRY_AFTER = 60.0
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_HEX32 = re.compile(r"^[0-9a-fA-F]{32}$")


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
    """Fetch `artifact` into `destination(artifact, dest_dir)`, verified, or raise CmpkgError.

    A file already there whose sha256 (or md5) matches is reused without any network I/O.
    """
    own_session = session is None
    session = session or new_session()
    try:
        options = Options(session, progress, stall_timeout, retries, backoff, offline)
        return _fetch(artifact, dest_dir, options)
    finally:
        if own_session:
            session.close()


def _fetch(artifact: Artifact, dest_dir: Path, options: Options) -> Fetched:
    dest = destination(artifact, dest_dir)
    dest.parent.mkdir(parents=True, exist_ok=True)
    reused = _reuse(artifact, dest)
    if reused is not None:
        return reused
    urls = _allowed_urls(artifact, options.offline)
    with locked_partial(dest) as partial:
        # Another process may have finished it while we waited for the lock.
        reused = _reuse(artifact, dest)
        if reused is not None:
            return reused
        return _try_urls(artifact, urls, dest, partial, options)


def _skipped_offline(artifact: Artifact, urls: Sequence[str]) -> list[str]:
    return [f"{u}: not local; skipped offline" for u in artifact.urls if u not in urls]


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
    cancel = threading.Event()

    def one(artifact: Artifact) -> Fetched | CmpkgError:
        try:
            return _fetch(
                artifact,
                dest_dir,
                Options(session, progress, stall_timeout, retries, backoff, offline, cancel),
            )
        except CmpkgError as error:
            return error

    pool = ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="fetch")
    try:
        results = list(pool.map(one, artifacts))
    except BaseException:
        # Ctrl-C: workers stop at their next chunk, release their partials' locks, and we
        # leave promptly instead of waiting for every download to finish.
        cancel.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=True)
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


def destination(artifact: Artifact, dest_dir: Path) -> Path:
    """Where `fetch` puts `artifact`: `dest_dir/<bucket>/<filename>`.

    The bucket is named after the expected hash (`sha256-<32 hex>`, else `md5-<hex>`, else
    `url-<hash of the URLs>`), so two artifacts that share a file name (every model is
    `model.onnx`) never overwrite each other in a shared downloads dir.
    """
    _check_artifact(artifact)
    if artifact.sha256:
        bucket = "sha256-" + artifact.sha256.lower()[:32]
    elif artifact.md5:
        bucket = "md5-" + artifact.md5.lower()
    else:
        bucket = "url-" + hashlib.sha256("\n".join(artifact.urls).encode()).hexdigest()[:32]
    return safe_join(Path(dest_dir) / bucket, artifact.filename, artifact.name)


def _check_artifact(artifact: Artifact) -> None:
    name = artifact.filename
    problem = None
    name_problem = "contains a '/'" if "/" in name else part_problem(name)  # cmpkg.paths' rules
    if name_problem is not None:
        problem = f"filename {name!r} must be a plain file name ({name_problem})"
    elif artifact.sha256 is not None and not _HEX64.match(artifact.sha256):
        problem = f"sha256 {artifact.sha256!r} is not 64 hex digits"
    elif artifact.md5 is not None and not _HEX32.match(artifact.md5):
        problem = f"md5 {artifact.md5!r} is not 32 hex digits"
    elif not artifact.urls:
        problem = "has no URL to fetch it from"
    if problem:
        raise CmpkgError(
            "bad-artifact", f"{artifact.name}: {problem}", hint="this is a recipe bug; report it"
        )


def _reuse(artifact: Artifact, dest: Path) -> Fetched | None:
    """A verified `dest` as a result, or None (unknown hashes never count as verified)."""
    if not (artifact.sha256 or artifact.md5) or not dest.is_file():
        return None
    with dest.open("rb") as fh:
        sha, md5, size = hash_stream(fh, md5=not artifact.sha256)
    if artifact.size is not None and size != artifact.size:
        return None
    if (artifact.sha256 or "").lower() == sha or (
        not artifact.sha256 and (artifact.md5 or "").lower() == md5
    ):
        return Fetched(dest, sha, size, "")
    return None


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


def _try_urls(
    artifact: Artifact, urls: Sequence[str], dest: Path, partial: IO[bytes], opts: Options
) -> Fetched:
    failures: list[str] = []
    tampered: list[str] = []
    if not (artifact.sha256 or artifact.md5):
        # Without a hash nothing would catch a prefix from another version of the file:
        # a partial left by an earlier run is only resumed when the result is verified.
        truncate(partial)
    for url in urls:
        attempt = Attempt(url, partial, started_from_disk=file_size(partial) > 0)
        try:
            result = _fetch_url(artifact, attempt, dest, opts)
        except IntegrityError as error:
            truncate(partial)
            tampered.append(f"{url}: {error}")
            continue
        except (SkipError, RetryError) as error:
            failures.append(f"{url}: {error}")
            continue
        warnings = tuple(f"tampered or stale mirror: {t}" for t in tampered)
        for warning in warnings:
            _warn(f"{artifact.name}: {warning}")
        return Fetched(result.path, result.sha256, result.size, url, warnings)
    _discard_if_empty(dest)
    # Offline, the URLs that were not tried are places looked at too (RELIABILITY E27).
    raise _failure(artifact, failures + _skipped_offline(artifact, urls), tampered)


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
    with contextlib.suppress(OSError):
        dest.parent.rmdir()  # the bucket, if nothing else is in it


def _warn(text: str) -> None:
    from cmpkg import console

    console.message("warning", text)


def _fetch_url(artifact: Artifact, attempt: Attempt, dest: Path, opts: Options) -> Fetched:
    """Download one URL with its retries; verify; rename onto `dest`."""
    if is_local(attempt.url):
        copy_local(artifact, attempt)
    else:
        _download_with_retries(artifact, attempt, opts)
    try:
        return _verify_and_commit(artifact, attempt, dest)
    except IntegrityError:
        if not attempt.started_from_disk:
            raise
        # The prefix may have come from another server's version of the file: start over once.
        truncate(attempt.partial)
        attempt.started_from_disk = False
        return _fetch_url(artifact, attempt, dest, opts)


def _download_with_retries(artifact: Artifact, attempt: Attempt, opts: Options) -> None:
    for number in range(opts.retries + 1):
        try:
            download(artifact, attempt, opts)
            return
        except RetryError as error:
            attempt.notes.append(error.reason)
            if number == opts.retries:
                raise RetryError(f"{error.reason} (gave up after {opts.retries} retries)") from None
            delay = _delay(number, error.retry_after, opts.backoff)
            if opts.cancel is None:
                time.sleep(delay)
            elif opts.cancel.wait(delay):
                check_cancelled(opts)


def _delay(number: int, retry_after: float | None, backoff: float) -> float:
    """Exponential backoff with full jitter; a server's Retry-After wins (capped)."""
    if retry_after is not None:
        return min(retry_after, _MAX_RETRY_AFTER)
    return float(backoff * (2**number) * random.uniform(0.5, 1.5))


def _verify_and_commit(artifact: Artifact, attempt: Attempt, dest: Path) -> Fetched:
    partial = attempt.partial
    partial.seek(0)
    sha, md5, size = hash_stream(partial, md5=not artifact.sha256)
    _check_integrity(artifact, sha, md5, size)
    os.fsync(partial.fileno())
    # Rename while still holding the lock on the inode: no sweeper can see it half-done.
    partial_path = dest.with_name(dest.name + PARTIAL_SUFFIX)
    partial_path.replace(dest)
    return Fetched(dest, sha, size, attempt.url)


def _check_integrity(artifact: Artifact, sha: str, md5: str, size: int) -> None:
    if artifact.size is not None and size != artifact.size:
        raise IntegrityError(f"size {size} differs from the recorded size {artifact.size}")
    if artifact.sha256 and artifact.sha256.lower() != sha:
        raise IntegrityError(f"sha256 mismatch: expected {artifact.sha256.lower()}, got {sha}")
    if not artifact.sha256 and artifact.md5 and artifact.md5.lower() != md5:
        raise IntegrityError(f"md5 mismatch: expected {artifact.md5.lower()}, got {md5}")
