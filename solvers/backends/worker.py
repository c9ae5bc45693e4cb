"""Run one uninterruptible native call under a deadline: in a forked child that is killed when
the deadline passes.

libsolv's `Solver.solve` is a single C call with no callback or abort hook (the `solv`
bindings offer none), so a deadline checked in Python cannot stop it: a dense request ran
20-34 s under a 10 s bound. Forking keeps the pool where it is (the child gets the parent's
pool copy-on-write, so nothing is sent to it); the child computes a small answer (candidate
ids, edge pairs), writes it to a pipe with `marshal` and exits; the parent waits on the pipe
until the deadline and kills the child if it has not answered.

Cost (measured on the 2-core VM, a 115 MiB process holding the 10,000-name index): a fork,
exit and reap take 11-22 ms wall (5-8 ms of the parent's CPU for copying its page tables),
and the child's first solve is ~6 ms slower than in the parent (copy-on-write faults); a
small process forks in about a millisecond. Without a bound, or where `os.fork` does not
exist, the call runs in-process (nothing could stop it there anyway, and without a bound
nothing has to).
"""

from __future__ import annotations

import marshal
import os
import select
import signal
from collections.abc import Callable
from typing import Any, TypeVar, cast

from solvers.backends import Deadline, SolveTimeoutError

T = TypeVar("T")

_OK, _FAILED, _TIMEOUT = b"o", b"e", b"t"
_IN_CHILD = False  # set in a forked worker: it runs nested bounded calls itself


class WorkerError(RuntimeError):
    """The forked child died or raised instead of answering (never a wrong answer)."""


def bounded(call: Callable[[], T], deadline: Deadline, grace: float = 0.0) -> T:
    """`call()`, or SolveTimeoutError once `deadline` (plus `grace`) passes while it runs.

    `call` must return a value that `marshal` can write (ints, tuples, lists, None) and must
    not need to change the parent's state: it runs in a child process when there is a bound.
    `grace` is for a `call` that checks the same deadline itself and answers with what it
    has when it passes (the explainer's core search): it gets that long to hand it over.
    Calls nested in a child run in it directly (the child is already killable).
    """
    left = deadline.left()
    if left is None or _IN_CHILD or not hasattr(os, "fork"):
        return call()
    deadline.check()
    wait = Deadline(left + grace)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer, then leave without running the parent's cleanup
        os.close(read_end)
        _answer(call, write_end)
    os.close(write_end)
    data = None
    try:
        data = _read_until(read_end, wait)
    finally:
        os.close(read_end)
        _reap(pid, kill=data is None)
    return cast(T, _decoded(data))


def _answer(call: Callable[[], Any], fd: int) -> None:
    global _IN_CHILD  # this process is the child from now on
    _IN_CHILD = True
    status = 0
    try:
        payload = _OK + marshal.dumps(call())
    except SolveTimeoutError:  # the child's own deadline checks: the same verdict
        payload, status = _TIMEOUT, 1
    except BaseException as exc:  # the parent reports it; the child must exit either way
        payload, status = _FAILED + repr(exc).encode(), 1
    try:
        view = memoryview(payload)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os._exit(status)


def _read_until(fd: int, deadline: Deadline) -> bytes:
    """Everything the child writes until it closes the pipe; SolveTimeoutError when the
    deadline passes first."""
    chunks: list[bytes] = []
    while True:
        ready, _, _ = select.select([fd], [], [], deadline.left())
        if not ready:
            raise SolveTimeoutError("the time bound ran out inside libsolv's solve")
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _reap(pid: int, kill: bool) -> None:
    """Wait for the child; kill it first when it has not answered (it may still be solving)."""
    if kill:
        os.kill(pid, signal.SIGKILL)  # an unreaped child exists (at worst as a zombie)
    os.waitpid(pid, 0)


def _decoded(data: bytes) -> object:
    if data[:1] == _OK:
        return marshal.loads(data[1:])
    if data[:1] == _TIMEOUT:
        raise SolveTimeoutError("the time bound ran out")
    if data[:1] == _FAILED:
        raise WorkerError(f"the solver's worker process failed: {data[1:].decode()}")
    raise WorkerError("the solver's worker process died without answering")
