"""A bound holds even inside libsolv's solve, a C call nothing in Python can interrupt: the
solve runs in a forked child (`solvers.backends.worker.bounded`) killed at the deadline.

The hard problem is the pigeonhole principle (n + 1 pigeons, n holes: unsatisfiable, and
exponentially hard for any CDCL solver, libsolv included: measured 1.2 s at n = 10, 4.5 s
at n = 11, about x3.5 per hole). At n = 16 it runs for hours, so a bounded solve that
returns at all returned because of its bound. Each check runs in a subprocess with a
generous limit (the bound + 60 s), so a broken bound fails the test instead of hanging it;
nothing asserts how fast it returned.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from solvers import SolveTimeoutError
from solvers.backends import Deadline
from solvers.backends.worker import WorkerError, bounded

BOUND = 1.0
LIMIT = BOUND + 60.0  # what "returned" means here: far beyond any scheduling noise


def pigeonhole(holes: int) -> dict[str, Any]:
    """Every pigeon must sit in a hole; a hole's candidates provide and conflict with it
    (mutual exclusion), so two pigeons cannot share one."""
    pigeon = [
        {"version": str(j + 1), "provides": [[f"hole{j}", "1"]], "conflicts": [[f"hole{j}", ""]]}
        for j in range(holes)
    ]
    packages = {f"pigeon{i}": pigeon for i in range(holes + 1)}
    requests = [[f"pigeon{i}", ""] for i in range(holes + 1)]
    return {"format": "solvers-problem/1", "packages": packages, "requests": requests}


@pytest.fixture
def hard_file(tmp_path: Path) -> Path:
    path = tmp_path / "pigeonhole.json"
    path.write_text(json.dumps(pigeonhole(16)), encoding="utf-8")
    return path


def _run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], capture_output=True, text=True, check=False, timeout=LIMIT
    )


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["auto", "libsolv"])
def test_a_bound_ends_a_solve_stuck_in_libsolv(hard_file: Path, backend: str) -> None:
    done = _run("-m", "solvers", "solve", str(hard_file), "--backend", backend,
                "--timeout", str(BOUND))  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert f"timed out after {BOUND} s" in done.stderr


def test_the_pigeonhole_is_unsatisfiable_when_small() -> None:
    """So the timeouts above stop a real (if long) proof of impossibility."""
    from solvers import load_problem, solve

    result = solve(load_problem(pigeonhole(4)), "libsolv", timeout=60)
    assert not result.satisfiable and result.explanation is not None


@pytest.mark.slow
def test_the_explainers_search_is_bounded_too(hard_file: Path) -> None:
    code = f"""
import json, sys
from solvers import load_problem, SolveTimeoutError
from solvers.backends import Deadline
from solvers.catalog import Catalog
from solvers.explain import explain
catalog = Catalog(load_problem(json.load(open(sys.argv[1]))))
try:
    explain(catalog, Deadline({BOUND}), Deadline({BOUND}))  # the search's bound; solve's
except SolveTimeoutError:
    print("timeout")
"""
    done = _run("-c", code, str(hard_file))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "timeout"


def test_a_bounded_call_answers_from_a_child() -> None:
    seen: list[int] = []

    def call() -> list[int]:
        seen.append(1)  # in the child: the parent's list is untouched
        return [1, 2, 3]

    assert bounded(call, Deadline(60)) == [1, 2, 3]
    assert seen == []
    assert bounded(call, Deadline(None)) == [1, 2, 3]  # no bound: in this process
    assert seen == [1]


def test_a_child_that_never_answers_is_killed_at_the_bound() -> None:
    def forever() -> None:
        import select

        select.select([], [], [])  # blocks until killed

    with pytest.raises(SolveTimeoutError):
        bounded(forever, Deadline(0.2))


def test_a_failing_child_is_an_error_not_an_answer() -> None:
    def failing() -> None:
        raise KeyError("boom")

    with pytest.raises(WorkerError, match="boom"):
        bounded(failing, Deadline(60))


def test_a_call_nested_in_a_child_runs_there() -> None:
    def outer() -> int:
        return bounded(lambda: 41, Deadline(60)) + 1

    assert bounded(outer, Deadline(60)) == 42


def test_a_timeout_in_the_child_is_a_timeout() -> None:
    def expired() -> None:
        Deadline(-1.0).check()

    with pytest.raises(SolveTimeoutError):
        bounded(expired, Deadline(60))
