"""A dense request never runs past its bound: every stage that builds something (walking
what the request reaches, which builds a lazy problem's packages, libsolv's pool, clingo's
program, the explainer's pool) checks the deadline, so an expired bound ends the solve with
SolveTimeoutError before the work, never after it. No timing: the deadlines used here have
already passed, or pass at their n-th check, so every outcome is deterministic.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from solvers import SolveTimeoutError, load_problem, solve
from solvers.backends import Deadline
from solvers.backends.clingo_backend import ClingoBackend
from solvers.backends.libsolv_backend import LibsolvBackend
from solvers.backends.resolvelib_backend import ResolvelibBackend
from solvers.catalog import Catalog
from solvers.explain import explain
from solvers.model import LazyPackages

from .conftest import BACKENDS
from .test_pool_reuse import Interrupting

NAMES = 400


def dense(names: int = NAMES, seed: int = 3) -> dict[str, Any]:
    """The benchmark's dense profile, small: 4-8 depends per version to any earlier name,
    a fifth of them two-sided, so a request reaches most of the index."""
    rng = random.Random(seed)
    packages: dict[str, list[dict[str, Any]]] = {}
    for i in range(names):
        cands = []
        for v in range(4, 0, -1):
            targets = {rng.randrange(i) for _ in range(rng.randint(4, 8))} if i else set()
            deps = [
                [f"p{t}", ">=1" if rng.random() < 0.8 else f">=1,<={rng.randint(1, 4)}"]
                for t in sorted(targets)
            ]
            cands.append({"version": f"{v}.0", "depends": deps})
        packages[f"p{i}"] = cands
    request = [f"p{names - 1}", ""]
    return {"format": "solvers-problem/1", "packages": packages, "requests": [request]}


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_expired_bound_ends_a_dense_solve_before_it_builds(backend: str) -> None:
    problem = load_problem(dense(), lazy=True)
    with pytest.raises(SolveTimeoutError):
        solve(problem, backend, timeout=-1.0)
    assert isinstance(problem.packages, LazyPackages)
    assert problem.packages.built() <= {f"p{NAMES - 1}"}  # at most the requested name


@pytest.mark.parametrize(
    "backend", [LibsolvBackend, ClingoBackend, ResolvelibBackend], ids=lambda b: b.name
)
@pytest.mark.parametrize("after", [0, 1, 2])
def test_a_bound_passing_mid_build_is_noticed(backend: Any, after: int) -> None:
    """The bound passes at the `after`-th check: the checks are spread through the build
    (a request here reaches ~300 of the 400 names, built across several walk chunks)."""
    catalog = Catalog(load_problem(dense(), lazy=True))
    with pytest.raises(SolveTimeoutError):
        backend().solve(catalog, Interrupting(after))


def test_libsolv_stops_building_part_way() -> None:
    catalog = Catalog(load_problem(dense(), lazy=True))
    everything = Catalog(load_problem(dense()))
    names = set(everything.names_of(everything.reachable(everything.problem.requests)))
    with pytest.raises(SolveTimeoutError):
        LibsolvBackend().solve(catalog, Interrupting(1))
    assert isinstance(catalog.problem.packages, LazyPackages)
    assert 1 < len(catalog.problem.packages.built()) < len(names)


def test_the_dense_problem_is_solvable_without_a_bound() -> None:
    """So the timeouts above are the bound's doing, not an unsatisfiable problem's."""
    result = solve(load_problem(dense(), lazy=True), "libsolv")
    assert result.satisfiable and len(result.pins) > 50


def test_an_unsatisfiable_dense_request_is_explained_or_times_out() -> None:
    """Past the bound, the explainer stops before encoding; with time, it explains."""
    raw = dense()
    raw["packages"]["p0"] = [{"version": "1.0", "conflicts": [["p1", ""]]}]
    raw["packages"]["p1"] = [{"version": "1.0", "depends": [["p0", ""]]}]
    raw["requests"] = [["p1", ""], [f"p{NAMES - 1}", ""]]
    catalog = Catalog(load_problem(raw, lazy=True))
    with pytest.raises(SolveTimeoutError):
        explain(catalog, Deadline(-1.0))
    result = solve(catalog.problem, "auto")
    assert not result.satisfiable and result.explanation is not None
    assert "p0" in str(result.explanation)
