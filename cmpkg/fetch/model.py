"""Values and outcomes shared by the fetch modules (no I/O beyond the helpers at the end)."""

from __future__ import annotations

import hashlib
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

import requests

CHUNK = 256 * 1024
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


class RetryError(Exception):
    """A transient failure of one attempt (5xx, 429, reset, stall): retry the same URL."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class SkipError(Exception):
    """This URL cannot serve the artifact (404, 403, missing file): try the next one."""


class IntegrityError(Exception):
    """This URL served the wrong bytes (hash or size): deleted, reported, next URL."""


@dataclass(slots=True)
class Attempt:
    """The state of one URL's download across its retries."""

    url: str
    partial: IO[bytes]
    etag: str | None = None
    started_from_disk: bool = False
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Options:
    session: requests.Session
    progress: Progress | None
    stall_timeout: float
    retries: int
    backoff: float
    offline: bool = False
    cancel: threading.Event | None = None  # set by fetch_many on Ctrl-C: workers stop


class CancelledError(Exception):
    """fetch_many was interrupted: a worker stops at its next chunk (not a RetryError)."""


def check_cancelled(opts: Options) -> None:
    if opts.cancel is not None and opts.cancel.is_set():
        raise CancelledError("interrupted")


def hash_stream(fh: IO[bytes], *, md5: bool = True) -> tuple[str, str, int]:
    """(sha256, md5, size) of what `fh` holds; the md5 ("" without `md5`) only counts for
    an artifact recorded without a sha256, and costs twice the sha256 here (a cache pull's
    layers are hundreds of MB)."""
    sha, size = hashlib.sha256(), 0
    other = hashlib.md5(usedforsecurity=False) if md5 else None
    while chunk := fh.read(CHUNK):
        sha.update(chunk)
        if other is not None:
            other.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), other.hexdigest() if other is not None else "", size


def file_size(fh: IO[bytes]) -> int:
    return os.fstat(fh.fileno()).st_size


def truncate(fh: IO[bytes]) -> None:
    fh.seek(0)
    fh.truncate()
