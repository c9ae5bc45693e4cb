"""The backend protocol is honest and `solve()` relies on it: `complete` says whether "no
answer" is a proof, `optimal` whether answers follow the preference order exactly."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import pytest

from solvers import load_problem, solve
from solvers.backends.clingo_backend import ClingoBackend
from solvers.backends.libsolv_backend import LibsolvBackend
from solvers.backends.resolvelib_backend import ResolvelibBackend

from .conftest import read

CASE = Path(__file__).parent / "conformance" / "packse" / "wrong-backtracking-basic.json"


def test_each_backend_claims_what_its_docstring_says() -> None:
    assert (LibsolvBackend.complete, LibsolvBackend.optimal) == (True, False)
    assert (ClingoBackend.complete, ClingoBackend.optimal) == (True, True)
    assert (ResolvelibBackend.complete, ResolvelibBackend.optimal) == (False, False)


def test_an_incomplete_backends_no_is_confirmed_by_the_complete_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Before, any backend's None was reported as "unsatisfiable" without reading
    `complete`: an incomplete backend that answered None (instead of raising) lied."""
    module = importlib.import_module("solvers.solve")
    real = module.backend_class

    class Doubtful:
        name = "resolvelib"
        complete = False
        optimal = False

        def solve(self, *_args: Any) -> None:
            return None

    monkeypatch.setattr(
        module, "backend_class", lambda name: Doubtful if name == "resolvelib" else real(name)
    )
    result = solve(load_problem(read(CASE)), "resolvelib")
    assert result.satisfiable and result.backend == "libsolv" and not result.optimal


def test_result_optimal_comes_from_the_backend_that_answered() -> None:
    problem = load_problem(read(CASE))
    assert solve(problem, "clingo").optimal
    assert not solve(problem, "libsolv").optimal
