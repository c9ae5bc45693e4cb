"""Progress reporting for downloads: a one-line bar on stderr, only for a person watching."""

from __future__ import annotations

import sys
import threading
import time
from typing import IO

from cmpkg import envvars
from cmpkg.fetch.model import Progress


class StderrProgress:
    """A one-line progress bar on stderr: one line for all downloads, redrawn at most 10/s."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stderr
        self._lock = threading.Lock()
        self._totals: dict[str, int | None] = {}
        self._done: dict[str, int] = {}
        self._drawn = 0.0
        self._width = 0  # characters of the bar now on screen

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
            self._clear()
            if self._totals:
                self._draw()
            self._stream.flush()

    def _draw(self) -> None:
        self._drawn = time.monotonic()
        done = sum(self._done.values())
        total = sum(t for t in self._totals.values() if t)
        names = ", ".join(sorted(self._totals))[:40]
        mib = f"{done / 2**20:.1f}/{total / 2**20:.1f} MiB" if total else f"{done / 2**20:.1f} MiB"
        self._clear()
        shown = f"fetching {names}  {mib}"
        self._stream.write("\r" + shown)
        self._width = len(shown)
        self._stream.flush()

    def _clear(self) -> None:
        """Take the bar down: an escape code on a colour terminal, spaces with NO_COLOR."""
        from cmpkg import console

        if console.use_colour(self._stream):
            self._stream.write("\r\x1b[K")
        elif self._width:
            self._stream.write("\r" + " " * self._width + "\r")
        self._width = 0


def default_progress(*, json_output: bool = False) -> Progress | None:
    """A bar only for a person watching: stderr is a TTY, no --json, no CMPKG_NO_PROGRESS."""
    if json_output or envvars.get("CMPKG_NO_PROGRESS") == "1" or not sys.stderr.isatty():
        return None
    return StderrProgress()
