"""The local executor: a pool of cell processes on this machine, bounded by cores and GPUs.

Each worker runs the same `cmpkg sweep cell` as a Slurm array task, in its own process (a
crash or a cancel ends one cell, not the sweep). The pool holds `cores // cpus-per-cell`
workers, and no more than `GPUs // gpus-per-cell` when cells need GPUs; each GPU cell gets
its own devices through `CUDA_VISIBLE_DEVICES`.

The runner owns its cells: when it is interrupted (Ctrl-C, or a SIGTERM sent to it alone,
as `kill PID` or a CI timeout does), it starts no further cell and stops the running ones
with SIGTERM, which each records as `cancelled`, before it exits. Otherwise they would run
on as orphans, writing results for a sweep nobody watches.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from pathlib import Path

from cmpkg.errors import CmpkgError
from cmpkg.sweep.spec import SlurmOptions


def gpu_count() -> int:
    """GPUs on this machine as `nvidia-smi -L` lists them (0 without a driver)."""
    tool = shutil.which("nvidia-smi")
    if tool is None:
        return 0
    done = subprocess.run([tool, "-L"], capture_output=True, text=True, check=False)
    return sum(1 for line in done.stdout.splitlines() if line.startswith("GPU "))


def workers(options: SlurmOptions, jobs: int | None, cores: int, gpus: int) -> int:
    """How many cells run at once (pure): the user's `--jobs`, else what the machine holds."""
    bound = max(1, cores // max(1, options.cpus_per_cell))
    if options.gpus_per_cell:
        if gpus < options.gpus_per_cell:
            raise CmpkgError(
                "not-enough-gpus",
                f"each cell needs {options.gpus_per_cell} GPU(s); this machine has {gpus}",
                hint="lower gpus-per-cell in [sweep.slurm], or run on Slurm",
            )
        bound = min(bound, gpus // options.gpus_per_cell)
    return max(1, min(jobs, bound) if jobs else bound)


def run_cells(
    submission: Path,
    indices: Sequence[int],
    options: SlurmOptions,
    jobs: int,
    report: Callable[[int, int], None],
) -> dict[int, int]:
    """Run the cells; `report(index, exit code)` as each ends; exit codes by index."""
    slots: queue.Queue[str | None] = queue.Queue()
    per = options.gpus_per_cell
    for slot in range(jobs):  # one device set per worker, so GPU cells never share a device
        slots.put(",".join(str(slot * per + g) for g in range(per)) if per else None)
    codes: dict[int, int] = {}
    cells = _Cells()
    with _sigterm_interrupts(), ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(cells.run, submission, i, slots): i for i in indices}
        try:
            for future in as_completed(futures):
                index = futures[future]
                codes[index] = future.result()
                report(index, codes[index])
        except BaseException:
            for future in futures:
                future.cancel()
            cells.stop()  # the pool's exit then waits only for cells that are ending
            raise
    return codes


#: How long a stopped cell may take to stop its own app and record `cancelled` (the cell
#: gives its app 10 s) before it is killed.
STOP_GRACE_S = 30.0


class _Cells:
    """The running cell processes, so an interrupted runner can stop them; once stopping,
    no new cell starts (a queued worker would start one nobody stops)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: set[subprocess.Popen[bytes]] = set()
        self._stopping = False

    def run(self, submission: Path, index: int, slots: queue.Queue[str | None]) -> int:
        devices = slots.get()
        try:
            env = dict(os.environ)
            if devices is not None:
                env["CUDA_VISIBLE_DEVICES"] = devices
            argv = [sys.executable, "-m", "cmpkg", "sweep", "cell", "--submission"]
            with self._lock:
                if self._stopping:
                    return EXIT_NOT_STARTED
                child = subprocess.Popen([*argv, str(submission), "--task", str(index)], env=env)
                self._live.add(child)
            try:
                return child.wait()
            finally:
                with self._lock:
                    self._live.discard(child)
        finally:
            slots.put(devices)

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
            children = list(self._live)
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=STOP_GRACE_S)
            except subprocess.TimeoutExpired:
                child.kill()


EXIT_NOT_STARTED = 130  # a cell the interrupted runner never started (128 + SIGINT)


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """SIGTERM to the runner raises KeyboardInterrupt in it, as Ctrl-C does, so the cells
    are stopped instead of orphaned (the default SIGTERM ends Python without cleanup)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers can only be set from the main thread
        return

    def interrupt(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
