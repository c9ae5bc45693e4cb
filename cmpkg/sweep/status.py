"""One state per cell, from the cell's own file and what the scheduler says (pure).

    invalid    the solver refused the cell's build on its target (never run)
    missing    never run
    pending    queued in Slurm
    running    its runner is alive (Slurm says RUNNING, or a local runner's pid lives)
    done       installed and ran, exit 0
    failed     install or run exited non-zero
    cancelled  stopped by `scancel` / `sweep cancel` / Ctrl-C
    lost       its state says running but nothing runs it (a node died, SIGKILL)

`sweep run` reruns exactly the cells in RERUN.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from cmpkg.sweep import state as cell_state
from cmpkg.sweep.planner import PlannedCell
from cmpkg.sweep.state import CellState

RERUN = frozenset({"missing", "failed", "cancelled", "lost"})


@dataclass(frozen=True)
class CellStatus:
    cell: PlannedCell
    state: str
    detail: str  # the exit code and failed step, the Slurm job, or the solver's message
    attempt: int | None = None
    run_id: str | None = None
    job: str | None = None


def combine(
    planned: PlannedCell,
    found: CellState | None,
    queued: Mapping[str, tuple[str, str]],
    alive: bool,
) -> CellStatus:
    """`queued`: cell id -> (Slurm `job_task`, squeue state) of active tasks."""
    if planned.invalid is not None:
        return CellStatus(planned, "invalid", planned.invalid.message)
    attempt = found.attempt if found else None
    run_id = found.run_id if found else None
    if planned.id in queued:
        task, slurm_state = queued[planned.id]
        name = "pending" if slurm_state == "PENDING" else "running"
        return CellStatus(planned, name, f"slurm {task} {slurm_state}", attempt, run_id, task)
    if found is None:
        return CellStatus(planned, "missing", "")
    if found.job and found.task is not None:
        job: str | None = f"{found.job}_{found.task}"
    else:
        job = None
    if found.state == cell_state.RUNNING:
        if alive and found.job is None:
            return CellStatus(
                planned, "running", f"pid {found.pid} on {found.host}", attempt, run_id
            )
        return CellStatus(planned, "lost", "no process runs it", attempt, run_id, job)
    if found.state == cell_state.DONE:
        return CellStatus(planned, "done", "", attempt, run_id, job)
    if found.state == cell_state.CANCELLED:
        return CellStatus(
            planned, found.state, f"stopped (exit {found.exit_code})", attempt, run_id, job
        )
    detail = f"{found.step or 'run'} exited {found.exit_code}"
    return CellStatus(planned, found.state, detail, attempt, run_id, job)
