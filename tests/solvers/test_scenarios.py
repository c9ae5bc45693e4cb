"""Own scenario files: variants, provides, conflicts, constraints, resolvelib #206, explanations."""

from __future__ import annotations

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
        assert result.explanation == expected["explanation"]


def test_resolvelib_206_falls_back_to_the_complete_backend() -> None:
    problem = load_problem(read(Path(__file__).parent / "scenarios" / "resolvelib-206.json"))
    result = solve(problem, "resolvelib")
    assert result.satisfiable
    assert result.backend == "libsolv"  # resolvelib gave up; libsolv answered


def test_scenarios_present() -> None:
    assert len(SCENARIOS) >= 15
