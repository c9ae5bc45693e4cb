"""Running a recipe step so that it can write only inside its entry (and a scratch dir).

On Linux the step runs in new user and mount namespaces (`unshare`, util-linux) where the
root file system is remounted read-only and only the given directories are bind-mounted
writable; a write anywhere else fails with EROFS, so the step fails and no entry appears.
`/dev/shm` and `/tmp` are separate mounts on many machines and would keep their own flags:
the step gets a private, empty tmpfs on `/dev/shm` (multiprocessing needs a writable one;
what the step leaves there vanishes with it) and its own read-only mount of `/tmp` (readable
as before; TMPDIR is the step's scratch dir, the only writable place there besides the
given directories).
Where user namespaces are unavailable (another OS, a locked-down container) the step runs
unconfined and `available()` says why, so the install can warn.
"""

from __future__ import annotations

import functools
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

# Hold each writable directory open (fd 3, 4, ...), mount the private /dev/shm, give /tmp
# its own read-only mount, bind each directory from its descriptor (a dentry of the original,
# still writable mount, so the bind is writable even under the read-only /tmp; `-c`: mount
# must not turn /proc/self/fd/N back into a path), and last make / read-only. At most 6
# directories (dash knows single-digit descriptors only).
_SCRIPT = r"""set -e
n=$1; shift; i=0
while [ "$i" -lt "$n" ]; do
  eval "d$i=\$1"; eval "exec $((i + 3))<\"\$1\""; shift; i=$((i + 1))
done
mount -t tmpfs -o mode=1777,nosuid,nodev cmpkg-step-shm /dev/shm
mount --bind /tmp /tmp
mount -o remount,bind,ro /tmp
i=0
while [ "$i" -lt "$n" ]; do
  eval "d=\$d$i"; mount -c --bind "/proc/self/fd/$((i + 3))" "$d"
  eval "exec $((i + 3))<&-"; i=$((i + 1))
done
mount -o remount,bind,ro /
cd "$(pwd -P)"  # the inherited cwd is a dentry of the old mount: look it up through the new
exec "$@"
"""
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
    if len(dirs) > 6:
        raise ValueError("confined() takes at most 6 writable directories")
    return [unshare, *_UNSHARE, "sh", "-c", _SCRIPT, "confine", str(len(dirs)), *dirs, *argv]
