"""What each cell of a sweep has done, as files in the sweep directory (one writer per file).

    <sweep dir>/cells/<cell id>/state.json         the latest attempt's state
    <sweep dir>/cells/<cell id>/attempt-<n>/       its logs, cell.json and result/
    <sweep dir>/submissions/<n>.json               one per `sweep run`: executor, job, cells

Only the process running a cell writes its state file (atomically), so cells finishing at
once on a shared filesystem never contend; `status` combines these files with what the
scheduler says (`squeue`) into one state per cell.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cmpkg import atomic

CELLS = "cells"
SUBMISSIONS = "submissions"

#: The states a cell's own file can hold.
RUNNING, DONE, FAILED, CANCELLED = "running", "done", "failed", "cancelled"


@dataclass(frozen=True)
class CellState:
    state: str
    attempt: int
    started: float
    host: str
    pid: int
    run_id: str
    ended: float | None = None
    exit_code: int | None = None
    step: str | None = None  # install or run: where a failed cell stopped
    job: str | None = None  # the Slurm job id and array task, when run by Slurm
    task: int | None = None


def cell_dir(sweep_dir: Path, cell_id: str) -> Path:
    return sweep_dir / CELLS / cell_id


def read(sweep_dir: Path, cell_id: str) -> CellState | None:
    try:
        data = json.loads((cell_dir(sweep_dir, cell_id) / "state.json").read_text())
        return CellState(**data)
    except (OSError, ValueError, TypeError):
        return None  # never run, or unreadable: the cell counts as missing and is rerun


def write(sweep_dir: Path, cell_id: str, state: CellState) -> None:
    path = cell_dir(sweep_dir, cell_id) / "state.json"
    atomic.write_text(path, json.dumps(asdict(state), indent=1, sort_keys=True) + "\n")


def next_attempt(sweep_dir: Path, cell_id: str) -> tuple[int, Path]:
    """A new attempt directory, created exclusively (two runners never share one)."""
    base = cell_dir(sweep_dir, cell_id)
    base.mkdir(parents=True, exist_ok=True)
    n = 1 + max((int(p.name.split("-", 1)[1]) for p in base.glob("attempt-*")), default=0)
    while True:
        try:
            (base / f"attempt-{n}").mkdir()
            return n, base / f"attempt-{n}"
        except FileExistsError:
            n += 1


@dataclass(frozen=True)
class Submission:
    number: int
    executor: str
    cells: dict[int, dict[str, Any]]  # array index -> the plan's cell (planner.to_json)
    profile: str
    args: tuple[str, ...]
    root: str
    sweep_dir: str
    install_args: tuple[str, ...] = ()  # wheel sources for `install --frozen` (--find-links)
    job: str | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["cells"] = {str(k): v for k, v in self.cells.items()}
        data["args"] = list(self.args)
        data["install_args"] = list(self.install_args)
        return data


def new_submission(directory: Path, **fields: Any) -> Submission:
    """A new numbered submission file under `directory` (created exclusively)."""
    directory.mkdir(parents=True, exist_ok=True)
    n = 1 + max((int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit()), default=0)
    while True:
        try:
            with (directory / f"{n}.json").open("x") as f:
                submission = Submission(number=n, **fields)
                f.write(json.dumps(submission.to_json(), indent=1, sort_keys=True) + "\n")
                return submission
        except FileExistsError:
            n += 1


def save_submission(sweep_dir: Path, submission: Submission) -> None:
    path = sweep_dir / SUBMISSIONS / f"{submission.number}.json"
    atomic.write_text(path, json.dumps(submission.to_json(), indent=1, sort_keys=True) + "\n")


def read_submission(path: Path) -> Submission:
    data = json.loads(path.read_text())
    data["cells"] = {int(k): v for k, v in data["cells"].items()}
    data["args"] = tuple(data["args"])
    data["install_args"] = tuple(data.get("install_args", ()))
    return Submission(**data)


def submissions(sweep_dir: Path) -> list[Submission]:
    directory = sweep_dir / SUBMISSIONS
    paths = (
        sorted(directory.glob("*.json"), key=lambda p: int(p.stem)) if directory.exists() else []
    )
    return [read_submission(p) for p in paths if p.stem.isdigit()]


def alive(state: CellState) -> bool:
    """Whether a cell's runner on this host still lives (a killed local runner does not)."""
    if state.host != os.uname().nodename:
        return False
    try:
        os.kill(state.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
