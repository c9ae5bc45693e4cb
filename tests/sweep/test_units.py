"""The pure parts of sweeps: the [sweep] table, the matrix, Slurm's texts, cell states."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg.errors import InputError, UsageError
from cmpkg.sweep import local, slurm
from cmpkg.sweep.matrix import Build, cells, unknown_exclude_keys
from cmpkg.sweep.planner import Invalid, PlannedCell
from cmpkg.sweep.spec import SlurmOptions, load
from cmpkg.sweep.state import CellState
from cmpkg.sweep.status import RERUN, combine


def _spec(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "cmpkg.toml"
    path.write_text(f"[project]\nname = 'p'\ntargets = ['cpu']\n\n[sweep]\n{body}")
    return path


def test_the_matrix_is_the_product_less_exclusions_in_manifest_order(tmp_path: Path) -> None:
    spec = load(
        _spec(
            tmp_path,
            'benchmarks = ["a"]\nscenarios = ["Offline", "Server"]\nrepeats = 2\n'
            'variants = { backend = ["x", "y"] }\n'
            'exclude = [{ scenario = "Server", backend = "y" }]\n',
        )
    )
    ids = [c.id for c in cells(spec)]
    assert ids == [
        "a.Offline.cpu.backend-x.r1",
        "a.Offline.cpu.backend-x.r2",
        "a.Server.cpu.backend-x.r1",
        "a.Server.cpu.backend-x.r2",
        "a.Offline.cpu.backend-y.r1",
        "a.Offline.cpu.backend-y.r2",
    ]
    assert spec.targets == ("cpu",) and spec.profile == "smoke"  # [project] targets by default
    assert Build("a", (("backend", "y"),)).request == "a[backend=y]"
    assert unknown_exclude_keys(spec) == []


def test_every_problem_of_the_table_is_reported_at_once(tmp_path: Path) -> None:
    path = _spec(
        tmp_path,
        'benchmarks = ["../x"]\nrepeats = 0\nexclude = ["Server"]\ncolour = "red"\n'
        'variants = { target = ["a"] }\n',
    )
    with pytest.raises(InputError) as raised:
        load(path)
    text = "\n".join(raised.value.details)
    for expected in (
        "sweep.benchmarks[0]: '../x' must be",
        "sweep.scenarios: missing required key",
        "sweep.repeats: must be 1 or more",
        "sweep.exclude[0]: expected a table",
        "sweep.colour: unknown key",
        "sweep.variants.target: 'target' cannot name a variant group",
    ):
        assert expected in text


def test_a_manifest_without_a_sweep_says_how_to_add_one(tmp_path: Path) -> None:
    path = tmp_path / "cmpkg.toml"
    path.write_text("[project]\nname = 'p'\n")
    with pytest.raises(UsageError) as raised:
        load(path)
    assert raised.value.code == "no-sweep" and "docs/sweeps.md" in (raised.value.hint or "")


def test_cmpkg_add_keeps_the_sweep_table(tmp_path: Path) -> None:
    from cmpkg import project

    path = _spec(tmp_path, 'benchmarks = ["a"]\nscenarios = ["Offline"]\n')
    loaded = project.load(path)
    project.save(loaded)
    assert load(path).benchmarks == ("a",)


def test_array_spec_folds_ranges() -> None:
    assert slurm.array_spec([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert slurm.array_spec([3]) == "3"


def test_squeue_lines_expand_pending_ranges() -> None:
    text = "12|[0-2,5%2]|PENDING\n12|3|RUNNING\ngarbage\n"
    tasks = slurm.parse_squeue(text)
    assert [(t.task, t.state) for t in tasks] == [
        (0, "PENDING"),
        (1, "PENDING"),
        (2, "PENDING"),
        (5, "PENDING"),
        (3, "RUNNING"),
    ]


def test_sacct_lines_name_each_task_state() -> None:
    text = "12_3|CANCELLED by 0\n12_4|NODE_FAIL\n\n"
    assert slurm.parse_sacct(text) == {"12_3": "CANCELLED", "12_4": "NODE_FAIL"}


def test_the_job_script_runs_one_cell_per_task_from_the_project() -> None:
    text = slurm.render_script(
        name="sw",
        python="/opt/py bin/python",
        submission=Path("/p/sweep/submissions/1.json"),
        root=Path("/p"),
        log_dir=Path("/p/sweep/slurm"),
        options=SlurmOptions(partition="gpu", time="00:10:00", gpus_per_cell=2),
    )
    assert "#SBATCH --chdir=/p\n" in text and "#SBATCH --partition=gpu\n" in text
    assert "#SBATCH --gpus-per-task=2\n" in text and "#SBATCH --time=00:10:00\n" in text
    assert text.endswith(
        "exec '/opt/py bin/python' -m cmpkg sweep cell --submission /p/sweep/submissions/1.json"
        ' --task "$SLURM_ARRAY_TASK_ID"\n'
    )


def test_the_local_pool_is_bounded_by_cores_and_gpus() -> None:
    assert local.workers(SlurmOptions(cpus_per_cell=2), None, 16, 0) == 8
    assert local.workers(SlurmOptions(), 3, 16, 0) == 3
    assert local.workers(SlurmOptions(gpus_per_cell=2), None, 16, 4) == 2
    with pytest.raises(Exception, match="needs 1 GPU"):
        local.workers(SlurmOptions(gpus_per_cell=1), None, 16, 0)


def _planned(invalid: Invalid | None = None) -> PlannedCell:
    from cmpkg.sweep.matrix import Cell

    return PlannedCell(0, Cell(Build("a", ()), "Offline", "cpu", 1), "l", "s", "cpu", {}, invalid)


def _state(state: str, job: str | None = None) -> CellState:
    return CellState(state, 1, 0.0, "h", 1, "r", 1.0, 1, "run", job, 0 if job else None)


def test_states_combine_the_cell_file_and_the_queue() -> None:
    cell = _planned()
    assert combine(cell, None, {}, False).state == "missing"
    assert combine(cell, None, {cell.id: ("7_0", "PENDING")}, False).state == "pending"
    assert combine(cell, _state("running", "7"), {cell.id: ("7_0", "RUNNING")}, False).job == "7_0"
    assert combine(cell, _state("running", "7"), {}, False).state == "lost"
    assert combine(cell, _state("running"), {}, True).state == "running"
    assert combine(cell, _state("failed"), {}, False).detail == "run exited 1"
    assert combine(_planned(Invalid("unsatisfiable", "no")), None, {}, False).state == "invalid"
    assert {"missing", "failed", "cancelled", "lost"} == RERUN
