"""Hash-verified downloads: mirrors in order, retries, resume, stall detection, offline mode.

Owns: turning an `Artifact` (name, URLs, expected sha256/size/md5, filename) into a verified
file in a destination directory, or a `CmpkgError` that names the artifact, every URL tried
and why each failed. Bytes are streamed into `<filename>.partial` (held under an OS lock while
in use) and renamed onto `<filename>` only after size and hash checks pass.

Must not: commit a file whose size or hash was not verified (when they are known), retry a
404/403, treat a hash mismatch from a mirror as a mere miss (it is reported as a tampered or
stale mirror), open a non-loopback socket when offline, or cap a download by wall-clock time
(models are many GB; only a stall - no progress for `stall_timeout` seconds - aborts one).

Modules: `fetcher` (the loop over URLs, retries, verification), `http` (one attempt),
`local` (mirrors on disk, loopback), `partial` (locked partial files), `progress`, `model`.
"""

from __future__ import annotations

from cmpkg.fetch.fetcher import destination, fetch, fetch_many
from cmpkg.fetch.http import new_session
from cmpkg.fetch.local import is_local, is_loopback
from cmpkg.fetch.model import PARTIAL_SUFFIX, Artifact, Fetched, Progress
from cmpkg.fetch.partial import sweep_partials
from cmpkg.fetch.progress import StderrProgress, default_progress

__all__ = [
    "PARTIAL_SUFFIX",
    "Artifact",
    "Fetched",
    "Progress",
    "StderrProgress",
    "default_progress",
    "destination",
    "fetch",
    "fetch_many",
    "is_local",
    "is_loopback",
    "new_session",
    "sweep_partials",
]
