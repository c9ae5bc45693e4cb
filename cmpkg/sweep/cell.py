"""One cell, run where its executor put it: `cmpkg install --frozen` then `cmpkg run`.

This is what a Slurm array task and a local pool worker both execute (`cmpkg sweep cell`),
so the two executors differ only in where cells run. Each attempt gets its own directory
(logs, `cell.json`, the app's `result/`), the cell's state file says how it went, and the
run itself is recorded in the results database by `cmpkg run` (docs/results.md), which
reads the cell's identity and lock from `cell.json` (named by `CMPKG_SWEEP_CELL`).
A SIGTERM (`scancel`, `sweep cancel`) ends the cell as `cancelled`, never half-recorded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import FrameType
from typing import Any

from cmpkg import atomic
from cmpkg.sweep import state
from cmpkg.sweep.state import CellState, Submission

EXIT_CANCELLED = 143  # 128 + SIGTERM, what a shell reports for a terminated job


class CancelledError(Exception):
    """Raised in the runner by SIGTERM (scancel) or SIGINT, to record the cell cancelled."""


def env_name(cell_id: str) -> str:
    """One environment record per cell: cells of one build share store entries, not records,
    so concurrent installs never rewrite a record another cell is reading."""
    return f"sweep-{cell_id}"


def run(submission: Submission, index: int) -> int:
    cell = submission.cells[index]
    sweep_dir = Path(submission.sweep_dir)
    attempt, where = state.next_attempt(sweep_dir, cell["id"])
    run_id = uuid.uuid4().hex
    _write_cell_json(where, submission, cell, run_id, attempt)
    started = CellState(
        state.RUNNING,
        attempt,
        time.time(),
        os.uname().nodename,
        os.getpid(),
        run_id,
        job=submission.job or os.environ.get("SLURM_ARRAY_JOB_ID"),
        task=index if submission.executor == "slurm" else None,
    )
    state.write(sweep_dir, cell["id"], started)
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        step, code = _steps(submission, cell, where)
    except (CancelledError, KeyboardInterrupt):  # scancel / sweep cancel, or Ctrl-C
        step, code = "cancelled", EXIT_CANCELLED
    finally:
        signal.signal(signal.SIGTERM, previous)
    final = state.DONE if code == 0 else state.CANCELLED if step == "cancelled" else state.FAILED
    if step in ("install", "cancelled"):  # `cmpkg run` recorded nothing: the cell does
        _record_unrun(submission, where, (started.started, time.time()), code)
    ended = {"ended": time.time(), "exit_code": code, "step": None if code == 0 else step}
    state.write(sweep_dir, cell["id"], CellState(**{**_fields(started), "state": final, **ended}))
    return code


def _record_unrun(
    submission: Submission, where: Path, times: tuple[float, float], code: int
) -> None:
    from cmpkg.config import home
    from cmpkg.results.capture import record_unrun_cell

    try:
        cell = json.loads((where / "cell.json").read_text())
        record_unrun_cell(Path(submission.root), home(), cell, times, code)
    except (OSError, ValueError) as error:  # the state file still says how the cell ended
        print(f"warning: cell not recorded in the results database: {error}", file=sys.stderr)


def _fields(value: CellState) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(value)


def _on_term(_signum: int, _frame: FrameType | None) -> None:
    raise CancelledError


def _write_cell_json(
    where: Path, submission: Submission, cell: dict[str, Any], run_id: str, attempt: int
) -> None:
    """What `cmpkg run` records about the cell besides the app's own result.json."""
    lock = Path(submission.root) / cell["lock"]
    data = {
        **cell,
        "run-id": run_id,
        "attempt": attempt,
        "sweep": Path(submission.sweep_dir).name,
        "profile": submission.profile,
        "executor": submission.executor,
        "lock": str(lock),
        "result-dir": str(where / "result"),
    }
    atomic.write_text(where / "cell.json", json.dumps(data, indent=1, sort_keys=True) + "\n")


def _steps(submission: Submission, cell: dict[str, Any], where: Path) -> tuple[str, int]:
    """(the step that ended the cell, its exit code): install, then run."""
    cmpkg = [sys.executable, "-m", "cmpkg"]
    name = env_name(cell["id"])
    lock = str(Path(submission.root) / cell["lock"])
    install = [*cmpkg, "install", "--frozen", "--lock", lock, "--env", name]
    install += ["--target", cell["lock-target"], *submission.install_args]
    code = _call(install, where / "install.log", submission.root, {})
    if code != 0:
        return "install", code
    app_args = ["--scenario", cell["scenario"]]
    if submission.profile:
        app_args += ["--profile", submission.profile]
    app_args += [*submission.args, "--results-dir", str(where / "result")]
    extra_env = {"CMPKG_SWEEP_CELL": str(where / "cell.json")}
    return "run", _call(
        [*cmpkg, "run", name, "--", *app_args], where / "run.log", submission.root, extra_env
    )


def _call(argv: list[str], log: Path, cwd: str, extra_env: dict[str, str]) -> int:
    env = {**os.environ, **extra_env}
    with log.open("ab") as out:
        out.write(f"$ {' '.join(argv)}\n".encode())
        out.flush()
        child = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, env=env, start_new_session=True
        )
        try:
            return child.wait()
        except (CancelledError, KeyboardInterrupt):
            _stop(child)  # its own session: it saw neither the signal nor the Ctrl-C
            raise


def _stop(child: subprocess.Popen[bytes]) -> None:
    """End the child's whole session (the app it started too), politely first."""
    for sig, grace in ((signal.SIGTERM, 10.0), (signal.SIGKILL, None)):
        try:
            os.killpg(child.pid, sig)
        except ProcessLookupError:
            return
        try:
            child.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue
