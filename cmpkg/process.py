"""Running the programs cmpkg drives (pip, recipe steps) and reporting their failures.

A failure becomes one `CmpkgError` with the program's last output lines as details, so the
user sees why without a log file, and never a traceback.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

TAIL_LINES = 15


def run_or_raise(
    argv: Sequence[str],
    code: str,
    message: str,
    *,
    hint: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` capturing its output; raise `CmpkgError(code, message)` if it fails."""
    from cmpkg.errors import CmpkgError

    done = subprocess.run(list(argv), capture_output=True, text=True, env=env, cwd=cwd, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-TAIL_LINES:]
        raise CmpkgError(code, f"{message} (exit {done.returncode})", details=tail, hint=hint)
    return done
