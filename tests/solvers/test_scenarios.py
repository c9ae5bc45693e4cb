"""Own scenario files: variants, provides, conflicts, constraints, resolvelib #206, explanations."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from solvers import load_problem, solve, verify

from .conftest import BACKENDS, OPTIMAL, SCENARIOS, read, same_pins


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path, backend: str) -> None:
    raw = read(path)
    expected = raw["expected"]
    problem = load_problem(raw)
    result = solve(problem, backend)
    assert result.satisfiable == expected["satisfiable"]
    if result.satisfiable:
        assert verify(problem, result.pins) == []
        if backend in OPTIMAL or expected.get("pins_exact_all_backends", True):
            assert same_pins(result.pins, expected["pins"])
    elif "explanation" in expected:
        assert str(result.explanation) == expected["explanation"]


def test_resolvelib_206_falls_back_to_the_complete_backend() -> None:
    problem = load_problem(read(Path(__file__).parent / "scenarios" / "resolvelib-206.json"))
    result = solve(problem, "resolvelib")
    assert result.satisfiable
    assert result.backend == "libsolv"  # resolvelib gave up; libsolv answered


def test_scenarios_present() -> None:
    assert len(SCENARIOS) >= 15


def test_auto_returns_a_valid_answer_when_optimisation_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # `solvers.solve` the attribute is the function; the module is reached by name.
    monkeypatch.setattr(importlib.import_module("solvers.solve"), "OPTIMISE_SECONDS", 0.0)
    path = Path(__file__).parent / "conformance" / "packse" / "wrong-backtracking-basic.json"
    problem = load_problem(read(path))
    result = solve(problem)
    assert result.satisfiable
    assert not result.optimal
    assert result.backend == "libsolv"
    assert verify(problem, result.pins) == []


def test_unknown_backend_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="unknown backend 'nope'"):
        solve(load_problem(read(SCENARIOS[0])), "nope")
