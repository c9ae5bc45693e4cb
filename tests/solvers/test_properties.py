"""Random problems (hypothesis): backends agree, answers verify, brute force confirms both the
verdict and, for the optimal backends, the optimum of solvers.PREFERENCE_ORDER."""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from solvers import Candidate, Problem, load_problem, problem_to_json, solve, verify
from solvers.backends import BackendGaveUpError, Deadline
from solvers.backends.libsolv_backend import LibsolvBackend
from solvers.backends.resolvelib_backend import ResolvelibBackend
from solvers.catalog import Catalog
from solvers.solve import certainly_optimal
from solvers.verify import needed

NAMES = ["a", "b", "c", "d"]
SPECS = ["", ">=2", "<2", "==1", "!=2", ">=3"]


@st.composite
def requirement(draw: st.DrawFn, names: list[str] = NAMES) -> list[Any]:
    req: list[Any] = [draw(st.sampled_from([*names, "v"])), draw(st.sampled_from(SPECS))]
    if draw(st.integers(0, 5)) == 0:
        req.append({"dev": draw(st.sampled_from(["cpu", "gpu"]))})
    return req


@st.composite
def candidate(draw: st.DrawFn, version: int) -> dict[str, Any]:
    cand: dict[str, Any] = {"version": str(version)}
    if draw(st.booleans()):
        cand["variant"] = {"dev": draw(st.sampled_from(["cpu", "gpu"]))}
    cand["depends"] = draw(st.lists(requirement(), max_size=2))
    cand["conflicts"] = draw(st.lists(requirement(), max_size=1))
    if draw(st.integers(0, 4)) == 0:
        cand["provides"] = [["v", draw(st.sampled_from(["1", "2", "3"]))]]
    return cand


@st.composite
def problems(draw: st.DrawFn) -> dict[str, Any]:
    packages = {}
    for name in NAMES:
        versions = draw(st.lists(st.integers(1, 3), unique=True, max_size=3))
        packages[name] = [draw(candidate(v)) for v in versions]
    return {
        "format": "solvers-problem/1",
        "packages": packages,
        "requests": draw(st.lists(requirement(), min_size=1, max_size=3)),
        "constraints": draw(st.lists(requirement(), max_size=1)),
    }


def _assignments(problem: Problem) -> list[dict[str, Candidate]]:
    options = [[None, *problem.packages[n]] for n in problem.packages]
    found = []
    for combo in itertools.product(*options):
        pins = {c.name: c for c in combo if c is not None}
        if not verify(problem, pins):
            found.append(pins)
    return found


def _cost(problem: Problem, pins: Mapping[str, Candidate]) -> tuple[int, int, int]:
    requested = {r.name for r in problem.requests}
    ranks = {n: problem.packages[n].index(c) for n, c in pins.items()}
    tier1 = sum(r for n, r in ranks.items() if n in requested)
    return tier1, sum(r for n, r in ranks.items() if n not in requested), len(pins)


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(problems())
def test_backends_agree_with_brute_force(raw: dict[str, Any]) -> None:
    problem = load_problem(raw)
    valid = _assignments(problem)
    for backend in ["auto", "libsolv", "clingo", "resolvelib"]:
        result = solve(problem, backend)
        assert result.satisfiable == bool(valid), backend
        if result.satisfiable:
            assert verify(problem, result.pins) == []
        else:
            assert result.explanation
        if result.satisfiable and backend in ("auto", "clingo"):
            assert _cost(problem, result.pins) == min(_cost(problem, p) for p in valid)


@SETTINGS
@given(problems())
def test_raw_resolvelib_is_sound(raw: dict[str, Any]) -> None:
    """resolvelib alone may give up, but whatever it returns is a valid answer."""
    problem = load_problem(raw)
    catalog = Catalog(problem)
    try:
        chosen = ResolvelibBackend().solve(catalog, Deadline(10))
    except BackendGaveUpError:
        return
    assert chosen is not None
    pins = {catalog.candidates[c].name: catalog.candidates[c] for c in chosen}
    assert len(pins) == len(chosen)
    assert verify(problem, pins) == []


@SETTINGS
@given(problems())
def test_json_round_trip(raw: dict[str, Any]) -> None:
    problem = load_problem(raw)
    assert load_problem(problem_to_json(problem)) == problem


@SETTINGS
@given(problems())
def test_auto_shortcut_is_never_wrong(raw: dict[str, Any]) -> None:
    """Whenever `certainly_optimal` lets auto skip clingo, libsolv's answer has the
    brute-force optimum's cost."""
    problem = load_problem(raw)
    catalog = Catalog(problem)
    chosen = LibsolvBackend().solve(catalog, Deadline(None))
    if chosen is None:
        return
    pins = needed(problem, {catalog.candidates[c].name: catalog.candidates[c] for c in chosen})
    if certainly_optimal(catalog, pins):
        assert _cost(problem, pins) == min(_cost(problem, p) for p in _assignments(problem))
