"""The local executor: a pool of cell processes on this machine, bounded by cores and GPUs.

Each worker runs the same `cmpkg sweep cell` as a Slurm array task, in its own process (a
crash or a cancel ends one cell, not the sweep). The pool holds `cores // cpus-per-cell`
workers, and no more than `GPUs // gpus-per-cell` when cells need GPUs; each GPU cell gets
its own devices through `CUDA_VISIBLE_DEVICES`.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
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
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(_one, submission, i, slots): i for i in indices}
        for future in as_completed(futures):
            index = futures[future]
            codes[index] = future.result()
            report(index, codes[index])
    return codes


def _one(submission: Path, index: int, slots: queue.Queue[str | None]) -> int:
    devices = slots.get()
    env = dict(os.environ)
    if devices is not None:
        env["CUDA_VISIBLE_DEVICES"] = devices
    try:
        argv = [sys.executable, "-m", "cmpkg", "sweep", "cell", "--submission", str(submission)]
        return subprocess.call([*argv, "--task", str(index)], env=env)
    finally:
        slots.put(devices)
