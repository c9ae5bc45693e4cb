"""The sweep workflows: plan, run (local or Slurm), status and cancel (docs/sweeps.md).

Typed inputs, typed results; the CLI (`cmpkg.cli.sweep_cmds`) only parses and renders.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.pyenv import WheelSource
from cmpkg.sweep import local, slurm
from cmpkg.sweep import state as cell_state
from cmpkg.sweep.planner import Plan, PlannedCell, make_plan
from cmpkg.sweep.spec import SlurmOptions, SweepSpec
from cmpkg.sweep.spec import load as load_spec_file
from cmpkg.sweep.status import RERUN, CellStatus, combine

EXECUTORS = ("local", "slurm")
_WAIT_INTERVAL_S = 2.0  # how often `--wait` asks squeue (a cell takes seconds at least)


@dataclass(frozen=True)
class SweepInputs:
    start: Path  # where the command runs: the project is the nearest cmpkg.toml above it
    extra_index: tuple[Path, ...] = ()
    wheels: WheelSource = field(default_factory=lambda: WheelSource((), (), False))
    backend: str = "auto"


@dataclass(frozen=True)
class RunOutcome:
    executor: str
    plan: Plan
    selected: tuple[PlannedCell, ...]  # the cells this run started or submitted
    kept: tuple[CellStatus, ...]  # the cells left alone (done, running, pending, invalid)
    job: str | None = None
    codes: dict[int, int] | None = None  # local: each cell's exit code

    @property
    def failed(self) -> int:
        return sum(1 for code in (self.codes or {}).values() if code != 0)


def load_spec(start: Path) -> SweepSpec:
    from cmpkg.project import find

    path = find(start)
    if path is None:
        raise UsageError(
            "no-manifest", "no cmpkg.toml here or above", hint="a sweep is a [sweep] table in it"
        )
    return load_spec_file(path)


def plan(inputs: SweepInputs, *, replan: bool = False) -> Plan:
    return make_plan(
        load_spec(inputs.start),
        inputs.extra_index,
        inputs.wheels,
        backend=inputs.backend,
        replan=replan,
    )


def status(current: Plan) -> list[CellStatus]:
    spec = current.spec
    queued = _queued(cell_state.submissions(spec.dir))
    statuses = []
    for planned in current.cells:
        found = cell_state.read(spec.dir, planned.id)
        statuses.append(
            combine(planned, found, queued, found is not None and cell_state.alive(found))
        )
    return _with_accounting(statuses)


def _with_accounting(statuses: list[CellStatus]) -> list[CellStatus]:
    """Lost Slurm cells get sacct's word on why (where accounting runs)."""
    lost = [s.job for s in statuses if s.state == "lost" and s.job]
    said = slurm.accounting(lost) if lost else {}
    return [
        replace(s, detail=f"slurm says {said[s.job]}") if s.job in said else s for s in statuses
    ]


def _queued(submissions: Sequence[cell_state.Submission]) -> dict[str, tuple[str, str]]:
    """Cell id -> (job_task, state) for every array task Slurm still holds."""
    by_job = {s.job: s for s in submissions if s.executor == "slurm" and s.job}
    if not by_job or shutil.which("squeue") is None:
        return {}
    found = {}
    for task in slurm.queue(sorted(by_job)):
        cell = by_job[task.job].cells.get(task.task) if task.job in by_job else None
        if cell is not None and task.state in slurm.ACTIVE:
            found[cell["id"]] = (f"{task.job}_{task.task}", task.state)
    return found


def run(
    inputs: SweepInputs,
    executor: str,
    options: SlurmOptions | None = None,
    *,
    jobs: int | None = None,
    wait: bool = False,
    report: Callable[[str], None] = lambda _text: None,
) -> RunOutcome:
    """Start every cell that is missing, failed, cancelled or lost; leave the others."""
    if executor not in EXECUTORS:
        raise UsageError("bad-executor", f"unknown executor {executor!r}", hint="local or slurm")
    current = plan(inputs)
    spec = current.spec
    options = options or spec.slurm
    statuses = status(current)
    todo = tuple(s.cell for s in statuses if s.state in RERUN)
    kept = tuple(s for s in statuses if s.state not in RERUN)
    if not todo:
        return RunOutcome(executor, current, (), kept)
    submission = cell_state.new_submission(
        spec.dir / cell_state.SUBMISSIONS,
        executor=executor,
        cells={c.index: c.to_json() for c in todo},
        profile=spec.profile,
        args=spec.args,
        root=str(spec.root),
        sweep_dir=str(spec.dir),
        install_args=_install_args(inputs.wheels),
    )
    path = spec.dir / cell_state.SUBMISSIONS / f"{submission.number}.json"
    if executor == "local":
        count = local.workers(options, jobs, os.cpu_count() or 1, _gpus(options))
        codes = local.run_cells(
            path, [c.index for c in todo], options, count, _progress(todo, report)
        )
        return RunOutcome(executor, current, todo, kept, None, codes)
    job = _submit(spec, submission, path, options, todo)
    array = slurm.array_spec(c.index for c in todo)
    report(f"submitted slurm job {job}: {len(todo)} cells (array {array})")
    if wait:
        wait_for(job, report)
    return RunOutcome(executor, current, todo, kept, job)


def _install_args(wheels: WheelSource) -> tuple[str, ...]:
    """The wheel sources of `sweep run`, for each cell's `install --frozen` (absolute: the
    cells run from the project root, on whichever node)."""
    args: list[str] = []
    for link in wheels.find_links:
        args += ["--find-links", str(Path(link).resolve()) if "://" not in link else link]
    return (*args, "--no-index") if wheels.no_index else tuple(args)


def _gpus(options: SlurmOptions) -> int:
    return local.gpu_count() if options.gpus_per_cell else 0


def _progress(
    todo: Sequence[PlannedCell], report: Callable[[str], None]
) -> Callable[[int, int], None]:
    ids = {c.index: c.id for c in todo}
    done: list[int] = []

    def one(index: int, code: int) -> None:
        done.append(index)
        outcome = "done" if code == 0 else f"failed (exit {code})"
        report(f"[{len(done)}/{len(ids)}] {ids[index]}: {outcome}")

    return one


def _submit(
    spec: SweepSpec,
    submission: cell_state.Submission,
    path: Path,
    options: SlurmOptions,
    todo: Sequence[PlannedCell],
) -> str:
    log_dir = spec.dir / "slurm"
    log_dir.mkdir(parents=True, exist_ok=True)
    script = log_dir / f"submit-{submission.number}.sh"
    script.write_text(
        slurm.render_script(
            name=spec.name,
            python=sys.executable,
            submission=path,
            root=spec.root,
            log_dir=log_dir,
            options=options,
        )
    )
    job = slurm.submit(script, [c.index for c in todo])
    cell_state.save_submission(spec.dir, replace(submission, job=job))
    return job


def wait_for(job: str, report: Callable[[str], None]) -> None:
    """Until Slurm holds no task of `job` (the cells' files then say how each went)."""
    last = None
    while True:
        active = [t for t in slurm.queue([job]) if t.state in slurm.ACTIVE]
        if not active:
            return
        counts = ", ".join(f"{n} {s.lower()}" for s, n in sorted(_count(active).items()))
        if counts != last:
            report(f"slurm job {job}: {counts}")
            last = counts
        time.sleep(_WAIT_INTERVAL_S)


def _count(tasks: Sequence[slurm.Task]) -> dict[str, int]:
    found: dict[str, int] = {}
    for task in tasks:
        found[task.state] = found.get(task.state, 0) + 1
    return found


def cancel(current: Plan, cell_ids: Sequence[str] = ()) -> list[CellStatus]:
    """Cancel the named cells (default: every pending or running one); those cancelled."""
    for cell_id in cell_ids:
        current.cell(cell_id)  # an unknown id is an error, not a silent no-op
    chosen = [
        s
        for s in status(current)
        if s.state in ("pending", "running") and (not cell_ids or s.cell.id in cell_ids)
    ]
    slurm.cancel([s.job for s in chosen if s.job])
    for s in chosen:
        if s.job is None:
            _stop_local(current.spec.dir, s.cell.id)
    return chosen


def _stop_local(sweep_dir: Path, cell_id: str) -> None:
    found = cell_state.read(sweep_dir, cell_id)
    if found is None:
        return
    try:
        os.kill(found.pid, signal.SIGTERM)  # the runner records `cancelled` and stops its app
    except ProcessLookupError:
        pass
    except PermissionError as error:
        raise CmpkgError("cannot-cancel", f"cell {cell_id}: {error}") from None


def run_cell(submission: Path, task: int) -> int:
    """One cell of a submission: what each array task and pool worker runs."""
    from cmpkg.sweep import cell

    found = cell_state.read_submission(submission)
    if task not in found.cells:
        raise UsageError("unknown-task", f"{submission} has no task {task}")
    return cell.run(found, task)
