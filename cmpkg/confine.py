"""Running a recipe step so that it can write only inside its entry (and a scratch dir).

On Linux the step runs in new user and mount namespaces (`unshare`, util-linux) where the
root file system is remounted read-only and only the given directories are bind-mounted
writable; a write anywhere else fails with EROFS, so the step fails and no entry appears.
Separate mounts such as /dev/shm and /proc keep their own flags (multiprocessing needs
/dev/shm). Where user namespaces are unavailable (another OS, a locked-down container) the
step runs unconfined and `available()` says why, so the install can warn.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Bind each writable directory onto itself (its own mount), then make / read-only.
_SCRIPT = (
    'set -e; n=$1; shift; while [ "$n" -gt 0 ]; do mount --bind "$1" "$1"; shift; '
    'n=$((n-1)); done; mount -o remount,bind,ro /; exec "$@"'
)
_UNSHARE = ("--user", "--map-root-user", "--mount", "--propagation", "private")


@functools.lru_cache(maxsize=1)
def available() -> str | None:
    """None when steps can be confined here, else the reason they cannot."""
    unshare = shutil.which("unshare")
    if unshare is None:
        return "unshare (util-linux) is not installed"
    probe = [unshare, *_UNSHARE, "sh", "-c", _SCRIPT, "confine", "0", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"unshare failed: {error}"
    if done.returncode != 0:
        return "user namespaces are not available: " + (done.stderr.strip() or "unshare failed")
    return None


def confined(argv: Sequence[str], writable: Sequence[Path]) -> list[str]:
    """`argv` wrapped so that only `writable` directories can be written (see `available`)."""
    unshare = shutil.which("unshare") or "unshare"
    dirs = [str(d) for d in writable]
    return [unshare, *_UNSHARE, "sh", "-c", _SCRIPT, "confine", str(len(dirs)), *dirs, *argv]
