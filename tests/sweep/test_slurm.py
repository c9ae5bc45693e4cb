"""A sweep through a real Slurm cluster (tools/slurm-local.sh): one array job runs every cell,
a cancelled task is the only cell the next `sweep run` submits, and the local executor
gives the same cells and the same result rows."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cmpkg.results.record import COLUMNS
from tests.sweep.conftest import WHEELS, cmpkg, ok, status, wait_until, write_project

pytestmark = pytest.mark.slow

SWEEP = """benchmarks = ["sweepapp"]
scenarios = ["Offline", "SingleStream"]
targets = ["cpu"]
variants = { backend = ["alpha", "beta"] }
profile = "smoke"
args = ["--samples", "500"]
"""
HELD = "sweepapp.SingleStream.cpu.backend-beta.r1"


def _rows(project: Path, home: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(
        ok(cmpkg(project, home, "results", "export", "--json")).stdout
    )
    return rows


@pytest.fixture(scope="module")
def slurm_sweep(slurm: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The sweep run through Slurm with one task cancelled mid-run, then resumed."""
    root = tmp_path_factory.mktemp("slurm-sweep")
    project, home, hold = write_project(root / "p", SWEEP), root / "home", root / "hold"
    hold.mkdir()
    (hold / "SingleStream-beta").write_text("")  # that cell's app waits until this goes
    env = {"SLURM_CONF": slurm, "SWEEPAPP_HOLD": str(hold)}
    first = ok(cmpkg(project, home, "sweep", "run", "--executor", "slurm", *WHEELS, env=env))
    job = re.search(r"submitted slurm job (\d+): 4 cells \(array 0-3\)", first.stderr)
    assert job, first.stderr

    def others_done_and_held() -> bool:
        states = status(project, home, env)
        held = (hold / "SingleStream-beta.held").exists()
        return held and all(s["state"] == "done" for c, s in states.items() if c != HELD)

    wait_until(others_done_and_held, "three cells done and the fourth running its app")
    before = status(project, home, env)
    assert before[HELD]["state"] == "running"
    task = before[HELD]["job"]
    assert task == f"{job.group(1)}_3"
    subprocess.run(["scancel", task], check=True, env={**os.environ, "SLURM_CONF": slurm})
    wait_until(lambda: status(project, home, env)[HELD]["state"] == "cancelled", "the cancel")
    (hold / "SingleStream-beta").unlink()
    again = ok(
        cmpkg(project, home, "sweep", "run", "--executor", "slurm", "--wait", *WHEELS, env=env)
    )
    return {"project": project, "home": home, "env": env, "before": before, "again": again}


def test_slurm_runs_every_cell_through_one_array_job(slurm_sweep: dict[str, Any]) -> None:
    project, home = slurm_sweep["project"], slurm_sweep["home"]
    after = status(project, home, slurm_sweep["env"])
    assert {c: s["state"] for c, s in after.items()} == dict.fromkeys(after, "done")
    rows = [r for r in _rows(project, home) if r["status"] == "ok"]
    assert sorted(r["cell"] for r in rows) == sorted(after)
    for row in rows:
        assert row["kind"] == "sweep-cell" and row["executor"] == "slurm"
        assert row["samples_per_s"] > 0 and row["latency_p90_ns"] > 0 and row["valid"] == 1
        assert len(row["lock_sha256"]) == 64 and row["lock_target"] == "cpu"
        assert len(row["index_revision"]) == 64
        assert row["store_keys"]["sweepapp"] and Path(row["result_dir"], "result.json").is_file()
    listed = ok(cmpkg(project, home, "results", "list")).stdout
    assert all(cell in listed for cell in after)


def test_rerun_submits_only_the_cancelled_cell(slurm_sweep: dict[str, Any]) -> None:
    again, before = slurm_sweep["again"], slurm_sweep["before"]
    assert re.search(r"submitted slurm job \d+: 1 cells \(array 3\)", again.stderr), again.stderr
    after = status(slurm_sweep["project"], slurm_sweep["home"], slurm_sweep["env"])
    assert after[HELD]["attempt"] == 2
    rows = _rows(slurm_sweep["project"], slurm_sweep["home"])
    held = sorted((r["attempt"], r["status"], r["exit_code"]) for r in rows if r["cell"] == HELD)
    assert held == [(1, "failed", 143), (2, "ok", 0)]  # the cancelled attempt is a row too
    for cell, item in after.items():
        if cell != HELD:  # untouched: same attempt, same recorded run
            assert (item["attempt"], item["run-id"]) == (1, before[cell]["run-id"])


def test_local_executor_gives_the_same_cells_and_schema(
    slurm_sweep: dict[str, Any], tmp_path: Path
) -> None:
    home = slurm_sweep["home"]  # the store is shared: nothing is built twice
    project = write_project(tmp_path / "p", SWEEP)
    ok(cmpkg(project, home, "sweep", "run", "--executor", "local", *WHEELS))
    local_rows = [r for r in _rows(project, home) if r["status"] == "ok"]
    slurm_rows = [r for r in _rows(slurm_sweep["project"], home) if r["status"] == "ok"]
    assert sorted(r["cell"] for r in local_rows) == sorted(r["cell"] for r in slurm_rows)
    by_cell = {r["cell"]: r for r in slurm_rows}
    for row in local_rows:
        assert set(row) == set(COLUMNS) == set(by_cell[row["cell"]])
        assert row["executor"] == "local"
        twin = by_cell[row["cell"]]
        filled = {k for k, v in row.items() if v is not None}
        assert filled == {k for k, v in twin.items() if v is not None}
        assert row["store_keys"] == twin["store_keys"]
