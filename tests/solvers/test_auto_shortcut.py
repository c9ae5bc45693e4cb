"""auto returns the first-choice answer without any solver only when `certainly_optimal`
proves it; where a greedy answer is not optimal the proof must fail and clingo must find the
optimum, with the requested names pinned to their floor (`tier_one_floor`) or, where that
floor has no answer, within libsolv's answer's cost. (Soundness on random problems:
test_properties.py's test_auto_shortcut_is_never_wrong and
test_backends_agree_with_brute_force.)"""

from __future__ import annotations

import gc
import importlib
from typing import Any

from solvers import load_problem, solve
from solvers.backends import Deadline
from solvers.backends.libsolv_backend import LibsolvBackend
from solvers.catalog import Catalog
from solvers.solve import certainly_optimal, pin_steps, tier_one_floor
from solvers.verify import needed

solve_module = importlib.import_module("solvers.solve")  # `solvers.solve` is also the function


def _versions(pins: Any) -> dict[str, str]:
    return {n: c.version for n, c in pins.items()}


# `b 2` (b's first) allows only the two oldest of five `c`s; `b 1` allows any. libsolv (and
# its lexicographic refinement) keeps `b 2` and so pays rank 3 for `c 2`; the optimum pays
# rank 1 for `b 1` and 0 for `c 5`.
GREEDY_TRAP = {
    "format": "solvers-problem/1",
    "packages": {
        "a": [{"version": "1", "depends": [["b", ""], ["c", ""]]}],
        "b": [{"version": "2", "depends": [["c", "<=2"]]}, {"version": "1"}],
        "c": [{"version": v} for v in ("5", "4", "3", "2", "1")],
    },
    "requests": [["a", ""]],
}


def test_the_shortcut_refuses_a_greedy_answer_and_clingo_finds_the_optimum() -> None:
    problem = load_problem(GREEDY_TRAP)
    catalog = Catalog(problem)
    chosen = LibsolvBackend().solve(catalog, Deadline(None))
    assert chosen is not None
    greedy = needed(problem, {catalog.candidates[c].name: catalog.candidates[c] for c in chosen})
    assert _versions(greedy) == {"a": "1", "b": "2", "c": "2"}  # libsolv's answer: not optimal
    assert not certainly_optimal(catalog, greedy)
    result = solve(problem, "auto")
    assert result.backend == "clingo" and result.optimal
    assert _versions(result.pins) == {"a": "1", "b": "1", "c": "5"}


def _libsolv_proved(problem: Any) -> bool:
    catalog = Catalog(problem)
    chosen = LibsolvBackend(refine=False).solve(catalog, Deadline(None))
    assert chosen is not None
    pins = {catalog.candidates[c].name: catalog.candidates[c] for c in chosen}
    return certainly_optimal(catalog, needed(problem, pins))


def test_the_shortcut_applies_when_every_pin_is_first() -> None:
    raw = {**GREEDY_TRAP, "packages": {**GREEDY_TRAP["packages"], "b": [{"version": "1"}]}}
    result = solve(load_problem(raw), "auto")
    assert result.backend == "first-choice" and result.optimal
    assert _versions(result.pins) == {"a": "1", "b": "1", "c": "5"}
    assert _libsolv_proved(load_problem(raw))  # libsolv's answer would be proved too


def test_a_forced_older_pin_is_proved_without_clingo() -> None:
    """`a` needs `c ==2` (one candidate): every answer holds it, so rank 3 is no loss."""
    packages = {**GREEDY_TRAP["packages"], "a": [{"version": "1", "depends": [["c", "==2"]]}]}
    result = solve(load_problem({**GREEDY_TRAP, "packages": packages}), "auto")
    assert result.backend == "first-choice" and result.optimal
    assert _versions(result.pins) == {"a": "1", "c": "2"}


def test_the_pinned_step_answers_where_the_first_choice_clashes() -> None:
    """The first choice takes `c 5` for `a`'s `c`, then `d` needs `c ==2`: not an answer.
    clingo, with `a` pinned to its first candidate, proves `a 1, c 2, d 1` optimal without
    libsolv (whose answer here is the same, and proved by the forced rule)."""
    packages = {
        **GREEDY_TRAP["packages"],
        "a": [{"version": "1", "depends": [["d", ""], ["c", ""]]}],
        "d": [{"version": "1", "depends": [["c", "==2"]]}],
    }
    problem = load_problem({**GREEDY_TRAP, "packages": packages})
    assert tier_one_floor(Catalog(problem)) is not None
    result = solve(problem, "auto")
    assert result.backend == "clingo" and result.optimal
    assert _versions(result.pins) == {"a": "1", "c": "2", "d": "1"}
    assert _libsolv_proved(problem)


# `a 2` (a's first) needs a missing `x`, so no answer holds it.
BROKEN_FIRST = {
    **GREEDY_TRAP["packages"],
    "a": [
        {"version": "2", "depends": [["x", ""]]},
        {"version": "1", "depends": [["b", ""], ["c", ""]]},
    ],
}


def test_an_infeasible_floor_of_one_name_pins_its_next_candidate() -> None:
    problem = load_problem({**GREEDY_TRAP, "packages": BROKEN_FIRST})
    assert [len(p) for p in pin_steps(Catalog(problem))] == [1, 1]  # a 2, then a 1
    result = solve(problem, "auto")
    assert result.backend == "clingo" and result.optimal
    assert _versions(result.pins) == {"a": "1", "b": "1", "c": "5"}


def test_an_infeasible_floor_of_two_names_falls_back_to_libsolv_and_clingo() -> None:
    """With two requested names only the floor is pinned (tier 1 sums two ranks); it has
    no answer, so libsolv decides and clingo optimises within its answer's cost."""
    raw = {**GREEDY_TRAP, "packages": BROKEN_FIRST, "requests": [["a", ""], ["c", ""]]}
    assert len(pin_steps(Catalog(load_problem(raw)))) == 1
    result = solve(load_problem(raw), "auto")
    assert result.backend == "clingo" and result.optimal
    assert _versions(result.pins) == {"a": "1", "b": "1", "c": "5"}


def test_the_floor_is_each_requested_names_cheapest_allowed_candidate() -> None:
    """Requests and constraints on a requested name narrow its floor; a provider of it, or a
    name with no allowed candidate, leaves no floor (tier 1 could then be met otherwise)."""
    base = {**GREEDY_TRAP, "requests": [["c", "<=4"], ["c", ">=2"]], "constraints": [["c", "<4"]]}
    catalog = Catalog(load_problem(base))
    (floor,) = tier_one_floor(catalog) or ()
    assert catalog.candidates[floor].version == "3"
    none = load_problem({**base, "constraints": [["c", "<2"]]})
    assert tier_one_floor(Catalog(none)) is None
    provided = dict(GREEDY_TRAP["packages"])
    provided["z"] = [{"version": "1", "provides": [["c", "9"]]}]
    assert tier_one_floor(Catalog(load_problem({**base, "packages": provided}))) is None


def test_a_pinned_program_over_the_limit_is_left_to_libsolv(monkeypatch: Any) -> None:
    """Past PINNED_CANDIDATES the pinned step gives up before building: libsolv's pool is
    made (it is not, under the limit) and clingo optimises within its answer's cost."""
    problem = load_problem(GREEDY_TRAP)
    catalog = Catalog(problem)
    assert solve(problem, "auto", catalog=catalog).optimal and "libsolv" not in catalog.cache
    monkeypatch.setattr(solve_module, "PINNED_CANDIDATES", 2)
    catalog = Catalog(problem)
    result = solve(problem, "auto", catalog=catalog)
    assert "libsolv" in catalog.cache
    assert result.backend == "clingo" and result.optimal
    assert _versions(result.pins) == {"a": "1", "b": "1", "c": "5"}


def test_a_solve_pauses_the_collector_and_restores_it() -> None:
    problem = load_problem(GREEDY_TRAP)
    assert gc.isenabled()
    solve(problem, "auto")
    assert gc.isenabled()
    gc.disable()
    try:
        solve(problem, "auto")
        assert not gc.isenabled()  # a caller's choice is kept
    finally:
        gc.enable()
