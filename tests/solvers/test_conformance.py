"""The 91 conformance cases (packse and PubGrub's worked examples) against every backend."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.version import Version

from solvers import load_problem, solve, verify
from solvers.cli import main

from .conftest import BACKENDS, CONFORMANCE, OPTIMAL, case_id, read, same_pins


def test_all_cases_present() -> None:
    assert len(CONFORMANCE) == 91


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", CONFORMANCE, ids=case_id)
def test_verdict_and_pins(path: Path, backend: str) -> None:
    raw = read(path)
    expected = raw["expected"]
    problem = load_problem(raw)
    result = solve(problem, backend)
    assert result.satisfiable == expected["satisfiable"]
    if not result.satisfiable:
        assert result.explanation
        return
    assert verify(problem, result.pins) == []
    assert result.optimal == (backend in OPTIMAL)
    if expected["pins_exact"] and expected["pins"] is not None and backend in OPTIMAL:
        assert same_pins(result.pins, expected["pins"])


@pytest.mark.parametrize("path", CONFORMANCE, ids=case_id)
def test_cli_default_backend(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI code path in-process for every case (a subprocess each would cost ~30 s).
    With a bound, so libsolv's solves (and the explainer's) run in the killable child of
    `solvers.backends.worker`: the in-process path is `test_verdict_and_pins`'s."""
    expected = read(path)["expected"]
    code = main(["solve", str(path), "--json", "--timeout", "600"])
    out = json.loads(capsys.readouterr().out)
    assert out["satisfiable"] == expected["satisfiable"]
    assert code == (0 if expected["satisfiable"] else 1)
    if expected["pins_exact"] and expected["pins"] is not None:
        got = {n: Version(p["version"]) for n, p in out["pins"].items()}
        assert got == {n: Version(v) for n, v in expected["pins"].items()}


@pytest.mark.parametrize("path", CONFORMANCE[::15], ids=case_id)
def test_cli_subprocess(path: Path) -> None:
    """A sample through a real `python -m solvers` process."""
    expected = read(path)["expected"]
    proc = subprocess.run(
        [sys.executable, "-m", "solvers", "solve", str(path), "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == (0 if expected["satisfiable"] else 1), proc.stderr
    assert json.loads(proc.stdout)["satisfiable"] == expected["satisfiable"]
