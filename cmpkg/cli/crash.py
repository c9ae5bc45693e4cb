"""What a user sees when cmpkg has a bug: one line, a log file with the traceback, exit 70.

A traceback on the terminal is noise to a user and lost to a bug report; the log keeps it,
with the command line and versions, under the cache (`<CMPKG_HOME>/logs/`), or the system
temp dir when the cache cannot be written.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Sequence
from pathlib import Path

from cmpkg import __version__
from cmpkg.errors import EXIT_INTERNAL


def report(error: BaseException, argv: Sequence[str]) -> int:
    """Write the log, print where it is, and return EXIT_INTERNAL."""
    from cmpkg import console

    log = write_log(error, argv)
    first = (str(error).strip().splitlines() or [""])[0][:200]  # one line, whatever it holds
    console.message("error", f"internal error: {type(error).__name__}: {first}".rstrip(": "))
    where = f"the traceback is in {log}" if log else "the traceback could not be written"
    console.message("hint", f"this is a bug in cmpkg; {where} (please attach it to a report)")
    return EXIT_INTERNAL


def write_log(error: BaseException, argv: Sequence[str]) -> Path | None:
    text = "".join(
        [
            f"cmpkg {__version__} on Python {platform.python_version()} ({sys.platform})\n",
            f"command: cmpkg {_redacted(' '.join(argv))}\n\n",
            *traceback.format_exception(error),
        ]
    )
    name = f"internal-error-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
    for folder in _log_dirs():
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(text)
            return path
        except OSError:
            continue
    return None


def _redacted(text: str) -> str:
    """Credentials in URLs (`https://user:token@host`) stay out of the log (RELIABILITY 38)."""
    return re.sub(r"//[^/@\s]+@", "//***@", text)


def _log_dirs() -> list[Path]:
    dirs = [Path(tempfile.gettempdir()) / "cmpkg-logs"]
    try:
        from cmpkg.cli.common import home

        dirs.insert(0, home() / "logs")
    except Exception:
        pass
    return dirs
