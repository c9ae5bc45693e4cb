"""Running the programs cmpkg drives (pip, recipe steps) and reporting their failures.

A failure becomes one `CmpkgError` with the program's last output lines as details, so the
user sees why without a log file, and never a traceback. Every child is registered while it
runs, so that Ctrl-C can stop the ones that worker threads are waiting on (`stopping`): a
thread pool cannot end before its workers do, and a worker waits for its child. While the
pool drains, no new child may start: a queued worker would otherwise start an installer
that nobody stops.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

TAIL_LINES = 15
STOP_GRACE_SECONDS = 1.0  # SIGTERM first (installers clean up their temp files), then SIGKILL

_live: set[subprocess.Popen[str]] = set()
_live_lock = threading.Lock()
_refusing = threading.Event()  # set while `stopping()` drains: no new child may start


def run_or_raise(
    argv: Sequence[str],
    code: str,
    message: str,
    *,
    hint: str | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `argv` capturing its output (feeding it `stdin` when given); raise
    `CmpkgError(code, message)` if it fails."""
    from cmpkg.errors import CmpkgError

    done = _run(list(argv), env, cwd, stdin)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-TAIL_LINES:]
        raise CmpkgError(code, f"{message} (exit {done.returncode})", details=tail, hint=hint)
    return done


def _run(
    argv: list[str], env: Mapping[str, str] | None, cwd: Path | None, stdin: str | None
) -> subprocess.CompletedProcess[str]:
    """`subprocess.run(capture_output=True)`, with the child registered while it runs."""
    pipe = subprocess.PIPE
    with _live_lock:  # started and registered at once: `stopping()` sees every child
        if _refusing.is_set():
            raise KeyboardInterrupt
        child = subprocess.Popen(
            argv,
            stdin=pipe if stdin is not None else None,
            stdout=pipe,
            stderr=pipe,
            text=True,
            env=env,
            cwd=cwd,
        )
        _live.add(child)
    with child:
        try:
            out, err = child.communicate(stdin)
        except BaseException:  # Ctrl-C in this thread: the child must not outlive the wait
            child.kill()
            raise
        finally:
            with _live_lock:
                _live.discard(child)
    return subprocess.CompletedProcess(argv, child.returncode, out, err)


@contextmanager
def stopping() -> Iterator[None]:
    """On Ctrl-C: stop every running child (SIGTERM, then SIGKILL after a grace period) and
    refuse new ones until the block ends, so the caller can drain its pool inside it."""
    with _live_lock:
        _refusing.set()
        children = list(_live)
    try:
        for child in children:
            child.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        yield
    finally:
        _refusing.clear()
