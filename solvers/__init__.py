"""The pure solving library of cmpkg: problem model, backends, verification, explanations.

Imports nothing from cmpkg; knows nothing of TOML, recipes, hardware probing or installing.
Public API (what cmpkg's resolve adapter uses)::

    problem = load_problem(json_value)           # ProblemError on bad input
    result = solve(problem, backend="auto", timeout=None)
    result.satisfiable, result.pins, result.explanation, result.backend
    verify(problem, pins) -> list[str]           # empty means valid
"""

from __future__ import annotations

from solvers.backends import SolveTimeoutError
from solvers.model import (
    Candidate,
    Case,
    Problem,
    ProblemError,
    Requirement,
    load_batch,
    load_problem,
    problem_to_json,
)
from solvers.solve import PREFERENCE_ORDER, Result, SolverBugError, backend_names, solve
from solvers.verify import verify

__all__ = [
    "PREFERENCE_ORDER",
    "Candidate",
    "Case",
    "Problem",
    "ProblemError",
    "Requirement",
    "Result",
    "SolveTimeoutError",
    "SolverBugError",
    "backend_names",
    "load_batch",
    "load_problem",
    "problem_to_json",
    "solve",
    "verify",
]
