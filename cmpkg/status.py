"""The terminal's status line: what long work is doing now, for a person watching.

One mechanism for every long step without a bar of its own (the installer's uv child,
`cmpkg lock` per target, `mirror create`): `activity("installing 23 wheels into x")` shows
that text with its elapsed time on one redrawn line of stderr while the block runs. It draws
only when stderr is a TTY, never under `--json` (`quiet(True)`) nor with CMPKG_NO_PROGRESS=1, and
without escape codes when NO_COLOR is set (a carriage return and spaces clear the line).

Every message line (`line`) goes through the same lock, written whole with its newline in
one write: parallel build workers' lines can never run together, and a status line being
drawn is cleared first and redrawn after, so it never splices into a message.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from cmpkg import envvars

REDRAW_SECONDS = 0.5

_lock = threading.RLock()
_quiet = threading.Event()  # set for --json: nothing is drawn
_shown: list[tuple[str, float]] = []  # the activities running now, oldest first
_drawn_width = 0  # characters of the status line now on screen (0: none)


def quiet(flag: bool) -> None:
    """No drawing while `flag` holds (`--json`: scripts read stdout and stderr); set per
    command, so that one `--json` call does not silence the next in the same process."""
    if flag:
        _quiet.set()
    else:
        _quiet.clear()


def line(text: str) -> None:
    """One whole message line on stderr, under the lock, the status line kept below it."""
    with _lock:
        _clear()
        sys.stderr.write(text + "\n")
        _draw()
        sys.stderr.flush()


def _drawing() -> bool:
    if _quiet.is_set() or envvars.get("CMPKG_NO_PROGRESS") == "1":
        return False
    try:
        return sys.stderr.isatty()
    except ValueError:  # stderr closed
        return False


def _plain() -> bool:
    from cmpkg import console

    return not console.use_colour(sys.stderr)


def _clear() -> None:
    global _drawn_width
    if _drawn_width:
        sys.stderr.write("\r" + " " * _drawn_width + "\r" if _plain() else "\r\x1b[K")
        _drawn_width = 0


def _draw() -> None:
    global _drawn_width
    if not _shown or not _drawing():
        return
    text, started = _shown[-1]
    more = f" (+{len(_shown) - 1} more)" if len(_shown) > 1 else ""
    shown = f"{text} … {time.monotonic() - started:.0f}s{more}"
    sys.stderr.write("\r" + shown)
    _drawn_width = len(shown)


@contextmanager
def activity(text: str) -> Iterator[None]:
    """Show `text` and its elapsed time on the status line while the block runs."""
    if not _drawing():
        yield
        return
    entry = (text, time.monotonic())
    stop = threading.Event()
    with _lock:
        _shown.append(entry)
        _redraw()
    ticker = threading.Thread(target=_tick, args=(stop,), name="status", daemon=True)
    ticker.start()
    try:
        yield
    finally:
        stop.set()
        ticker.join()
        with _lock:
            _shown.remove(entry)
            _redraw()


def _tick(stop: threading.Event) -> None:
    while not stop.wait(REDRAW_SECONDS):
        with _lock:
            _redraw()


def _redraw() -> None:
    _clear()
    _draw()
    sys.stderr.flush()
