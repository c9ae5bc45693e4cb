"""Recording a finished `cmpkg run`: find its files, build its record, store it.

The I/O edge of `cmpkg.results.record`. The app's `result.json` is looked for where the run
put its results: the `--results-dir DIR` it was given, else the newest one written during the
run under `CMPKG_RESULTS_DIR` (set by `cmpkg run`; the MLPerf harness's default root), else
under `./results`. A run
that wrote none is still recorded (status `no-result` or `failed`), so a failure is visible
in `results list` too. Recording never fails the run: a problem is a warning.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from cmpkg.results.database import Results, default_dir
from cmpkg.results.record import RunFacts, RunRecord, build

RESULT_FILE = "result.json"


def results_dir_arg(args: Sequence[str]) -> Path | None:
    """The value of `--results-dir` (either spelling) among the app's arguments."""
    for i, arg in enumerate(args):
        if arg == "--results-dir" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--results-dir="):
            return Path(arg.split("=", 1)[1])
    return None


def find_result(
    args: Sequence[str], cwd: Path, since: float, root: Path | None = None
) -> Path | None:
    """``root``: where the app writes results (`CMPKG_RESULTS_DIR`, which `cmpkg run` sets;
    the harness nests runs as <benchmark>/<scenario>/<stamp>/), else ./results."""
    named = results_dir_arg(args)
    if named is not None:
        path = (cwd / named) / RESULT_FILE
        return path if path.is_file() else None
    base = root or cwd / "results"
    fresh = [p for p in base.glob(f"**/{RESULT_FILE}") if p.stat().st_mtime >= since - 1]
    return max(fresh, key=lambda p: p.stat().st_mtime) if fresh else None


def _read_json(path: str | Path | None) -> Any:
    if not path:
        return None
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def record_run(
    home: Path,
    env: str,
    variables: Mapping[str, str],
    args: Sequence[str],
    times: tuple[float, float],
    exit_code: int,
) -> RunRecord:
    """Record one finished run: its own record file, written atomically. The database takes
    it in on its next read (every `cmpkg results` command merges first): a run imports
    neither sqlite3 nor the merge's lock, and never waits on another process's merge."""
    from cmpkg import envvars

    cwd = Path.cwd()
    cell = _read_json(envvars.get("CMPKG_SWEEP_CELL"))
    root = variables.get("CMPKG_RESULTS_DIR")
    result_path = find_result(args, cwd, times[0], Path(root) if root else None)
    facts = RunFacts(
        run_id=(cell or {}).get("run-id") or os.urandom(16).hex(),  # as uuid4().hex, 128 bits
        env=env,
        started=times[0],
        ended=times[1],
        exit_code=exit_code,
        host=os.uname().nodename,
        result_dir=str(result_path.parent.resolve()) if result_path else None,
    )
    context = _read_json(variables.get("CMPKG_RUN_CONTEXT"))
    record = build(facts, _read_json(result_path), context, cell)
    Results(default_dir(cwd, home)).write_record(record)
    return record


def record_unrun_cell(
    root: Path, home: Path, cell: Mapping[str, Any], times: tuple[float, float], code: int
) -> RunRecord:
    """A sweep cell that never reached (or never finished) `cmpkg run` — its install failed,
    or it was cancelled — is a row too, so `results list` shows the whole matrix."""
    facts = RunFacts(
        run_id=cell["run-id"],
        env="",
        started=times[0],
        ended=times[1],
        exit_code=code,
        host=os.uname().nodename,
        result_dir=None,
    )
    record = build(facts, None, None, cell)
    Results(default_dir(root, home)).write_record(record)
    return record
