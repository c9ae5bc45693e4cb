"""The local executor end to end: invalid cells reported up front, a failing cell recorded and
then the only one rerun, and a plain `cmpkg run` recorded in the same database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.sweep.conftest import (
    WAIT_S,
    WHEELS,
    cmpkg,
    cmpkg_env,
    ok,
    status,
    wait_until,
    write_project,
)

pytestmark = pytest.mark.slow

SWEEP = """benchmarks = ["sweepapp"]
scenarios = ["Offline"]
targets = ["cpu"]
variants = { backend = ["alpha", "beta"], device = ["cpu", "cuda"] }
exclude = [{ backend = "beta", device = "cuda" }]
profile = ""
args = ["--samples", "300"]
"""
GOOD = "sweepapp.Offline.cpu.backend-alpha.device-cpu.r1"
BAD = "sweepapp.Offline.cpu.backend-beta.device-cpu.r1"
CUDA = "sweepapp.Offline.cpu.backend-alpha.device-cuda.r1"


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("local-sweep")
    project, home = write_project(root / "p", SWEEP), root / "home"
    plan = ok(cmpkg(project, home, "sweep", "plan", "--json", *WHEELS))
    failing = cmpkg(project, home, "sweep", "run", *WHEELS, env={"SWEEPAPP_FAIL": "Offline-beta"})
    after_failure = status(project, home)
    rerun = ok(cmpkg(project, home, "sweep", "run", *WHEELS))
    return {
        "project": project,
        "home": home,
        "plan": json.loads(plan.stdout),
        "failing": failing,
        "after_failure": after_failure,
        "rerun": rerun,
    }


def test_plan_names_lock_target_keys_and_the_solver_reason_for_invalid_cells(
    swept: dict[str, Any],
) -> None:
    cells = {c["id"]: c for c in swept["plan"]["cells"]}
    assert sorted(cells) == sorted([GOOD, BAD, CUDA])  # the excluded cell is not there
    good = cells[GOOD]
    assert good["lock-target"] == "cpu" and len(good["lock-sha256"]) == 64
    assert set(good["store-keys"]) >= {"sweepapp", "tinyrt", "python-env"}
    assert (swept["project"] / good["lock"]).is_file()
    assert cells[CUDA]["invalid"]["code"] == "unsatisfiable"
    assert any("__cuda" in line for line in cells[CUDA]["invalid"]["details"])


def test_a_failed_cell_is_recorded_and_only_it_is_rerun(swept: dict[str, Any]) -> None:
    assert swept["failing"].returncode == 1
    assert "cannot be built" in swept["failing"].stderr and CUDA in swept["failing"].stderr
    states = swept["after_failure"]
    assert (states[GOOD]["state"], states[BAD]["state"]) == ("done", "failed")
    assert states[BAD]["detail"] == "run exited 1" and states[CUDA]["state"] == "invalid"
    assert f"[1/1] {BAD}: done" in swept["rerun"].stderr
    final = status(swept["project"], swept["home"])
    assert (final[GOOD]["attempt"], final[BAD]["attempt"]) == (1, 2)
    assert final[GOOD]["run-id"] == states[GOOD]["run-id"]
    rows = json.loads(
        ok(cmpkg(swept["project"], swept["home"], "results", "export", "--json")).stdout
    )
    assert sorted((r["cell"], r["status"]) for r in rows) == [
        (GOOD, "ok"),
        (BAD, "failed"),
        (BAD, "ok"),
    ]
    nothing = ok(cmpkg(swept["project"], swept["home"], "sweep", "run", *WHEELS))
    assert "nothing to run" in nothing.stderr


def test_a_plain_run_is_recorded_with_its_context(swept: dict[str, Any]) -> None:
    project, home = swept["project"], swept["home"]
    index = ("--index", str(Path(__file__).parent / "index"))
    ok(
        cmpkg(
            project, home, "install", "sweepapp[backend=beta]", "--target", "cpu", *index, *WHEELS
        )
    )
    ok(cmpkg(project, home, "run", "sweepapp", "--", "--scenario", "SingleStream"))
    rows = json.loads(
        ok(cmpkg(project, home, "results", "export", "--json", "--where", "kind=run")).stdout
    )
    assert len(rows) == 1
    row = rows[0]
    assert (row["benchmark"], row["scenario"], row["status"]) == ("sweepapp", "SingleStream", "ok")
    assert row["variant"] == {"backend": "beta", "device": "cpu"} and row["target"] == "cpu"
    assert row["store_keys"]["sweepapp"] and isinstance(row["target_facts"], dict)
    assert Path(row["result_dir"]).parent == project / "results"
    compared = ok(
        cmpkg(project, home, "results", "compare", "backend=alpha", "backend=beta", "--json")
    )
    (pair,) = json.loads(compared.stdout)  # the Offline cells pair up; SingleStream has no twin
    assert "scenario=Offline" in pair["group"] and pair["ratios"]["samples_per_s"] > 0


def test_sweep_cancel_stops_a_running_local_cell(swept: dict[str, Any], tmp_path: Path) -> None:
    home = swept["home"]  # the store is built: only the held app is left to run
    project = write_project(tmp_path / "p", SWEEP.replace('"alpha", "beta"', '"alpha"'))
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "Offline-alpha").write_text("")
    env = cmpkg_env(home, {"SWEEPAPP_HOLD": str(hold)})
    running = subprocess.Popen(
        [sys.executable, "-m", "cmpkg", "sweep", "run", *WHEELS],
        cwd=project,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until((hold / "Offline-alpha.held").exists, "the cell's app to start")
        cancelled = ok(cmpkg(project, home, "sweep", "cancel", "--json", *WHEELS))
        assert json.loads(cancelled.stdout) == [GOOD]
        _out, err = running.communicate(timeout=WAIT_S)
    finally:
        running.kill()
    assert running.returncode == 1 and f"{GOOD}: failed (exit 143)" in err
    assert status(project, home)[GOOD]["state"] == "cancelled"


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_runner_stopped_alone_stops_its_cells(
    swept: dict[str, Any], tmp_path: Path, stop: signal.Signals
) -> None:
    # `kill PID` (or a CI timeout) reaches only the runner, not its process group: its cells
    # must not run on as orphans. Each stopped cell records `cancelled`; its app is gone.
    home = swept["home"]
    project = write_project(tmp_path / "p", SWEEP.replace('"alpha", "beta"', '"alpha"'))
    hold = tmp_path / "hold"
    hold.mkdir()
    (hold / "Offline-alpha").write_text("")
    running = subprocess.Popen(
        [sys.executable, "-m", "cmpkg", "sweep", "run", *WHEELS],
        cwd=project,
        env=cmpkg_env(home, {"SWEEPAPP_HOLD": str(hold)}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        held = hold / "Offline-alpha.held"
        wait_until(held.exists, "the cell's app to start")
        app = int(held.read_text())
        running.send_signal(stop)
        _out, err = running.communicate(timeout=WAIT_S)
    finally:
        running.kill()
    assert running.returncode != 0, err
    wait_until(lambda: not _alive(app), "the held app to end")
    assert status(project, home)[GOOD]["state"] == "cancelled"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return (
        Path(f"/proc/{pid}/stat").exists() and ") Z " not in Path(f"/proc/{pid}/stat").read_text()
    )
