"""`solve()`: pick a backend, verify its answer, prune it, explain a failure.

The objective an optimal answer minimises, in order of importance (PREFERENCE_ORDER).
A candidate's rank is its position in its name's list (0 = most preferred):
1. the sum of ranks of the chosen candidates of the requested names (the user asked for
   these: their preferred versions matter most);
2. the sum of ranks of every other chosen candidate (their dependencies);
3. the number of chosen candidates (nothing unneeded; smaller environments).
Summing ranks (as conda does) rather than going lexicographically by request order picks
`a 1.0, b 2.0.9` over `a 2.0, b 1.0` in packse's wrong-backtracking-basic, as uv does.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

from solvers.backends import BackendGaveUpError, Deadline, SolveTimeoutError
from solvers.catalog import CHECK_EVERY, Catalog
from solvers.model import Candidate, Problem, Requirement
from solvers.verify import needed, verify

if TYPE_CHECKING:  # the explanation (and its dataclasses) is imported only when one is built
    from solvers.explanation import Explanation

PREFERENCE_ORDER = (
    "min sum of preference ranks of the requested names' chosen candidates",
    "min sum of preference ranks of all other chosen candidates (the dependencies)",
    "min number of chosen packages",
)

# Backends are imported when first used: most resolutions never need clingo or resolvelib,
# and their imports would be most of a small `cmpkg install`'s start-up.
BACKENDS: dict[str, tuple[str, str]] = {
    "clingo": ("solvers.backends.clingo_backend", "ClingoBackend"),
    "libsolv": ("solvers.backends.libsolv_backend", "LibsolvBackend"),
    "resolvelib": ("solvers.backends.resolvelib_backend", "ResolvelibBackend"),
}


def backend_class(name: str) -> Any:
    """The backend class registered under `name` (imported on first use)."""
    module, attribute = BACKENDS[name]
    return getattr(importlib.import_module(module), attribute)


# The explainer's own bound: a longer core search is not worth the wait (the core found so
# far is still a true, if longer, explanation).
EXPLAIN_SECONDS = 5.0
# auto's bound on clingo's optimisation; past it, clingo's best model so far (or libsolv's
# answer) is returned with optimal=False. Huge dense problems end here.
OPTIMISE_SECONDS = 5.0
# auto's pinned steps for a single requested name (see `pin_steps`): each one that has no
# answer costs a clingo build and its proof of that; past these, libsolv bounds the search.
PINS_TRIED = 3
# The pinned steps' largest program (reachable candidates). clingo proved every realistic
# benchmark request's optimum within its bound (programs of 19-8,751 candidates) and no
# dense one's (24,000-33,000): those spent the bound and left libsolv too little time.
PINNED_CANDIDATES = 16_000


class SolverBugError(RuntimeError):
    """A backend's answer failed verification: an internal error, never a silent answer."""


class Result(NamedTuple):
    """The answer. `pins` maps each chosen name to its candidate; `backend` says who answered;
    `optimal` is True when the pins are proven optimal for PREFERENCE_ORDER (always for
    "auto" and "clingo" unless their optimisation bound ran out; never claimed by
    "libsolv" or "resolvelib", whose answers are valid but greedy)."""

    satisfiable: bool
    pins: Mapping[str, Candidate] = {}  # never mutated (a shared default)
    explanation: Explanation | None = None
    backend: str = ""
    optimal: bool = False


def backend_names() -> list[str]:
    return ["auto", *BACKENDS]


def solve(
    problem: Problem,
    backend: str = "auto",
    timeout: float | None = None,
    *,
    catalog: Catalog | None = None,
) -> Result:
    """Solve `problem` with `backend` ("auto", "libsolv", "clingo" or "resolvelib").

    Raises ValueError for an unknown backend, SolveTimeoutError when `timeout` seconds pass
    with no answer, SolverBugError when an answer fails verification. An incomplete
    backend's "impossible" is always confirmed by the complete one, so no wrong
    "unsatisfiable" is returned.
    Pass `catalog` (from an earlier call with the same packages) to reuse its tables.
    """
    if backend not in backend_names():
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(backend_names())}")
    deadline = Deadline(timeout)
    with _collector_paused():
        catalog = Catalog(problem) if catalog is None else catalog.rebind(problem)
        return _solve(problem, backend, catalog, deadline)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while solving (restored after, if it was on).

    A solve allocates many small objects (a lazy index's candidates and requirements, match
    lists, clingo's program lines) and almost no cycles, and every allocation-triggered
    full collection walks everything the process holds: on the 10,000-name benchmark one
    took about 250 ms inside a request costing 400-650 ms in all (measured with
    `gc.callbacks`). What a solve leaves behind is freed by reference counting; the rare
    cycle waits for the first collection after it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _solve(problem: Problem, backend: str, catalog: Catalog, deadline: Deadline) -> Result:
    if backend == "auto":
        return _auto(problem, catalog, deadline)
    for name in dict.fromkeys([backend, "libsolv"]):
        solver = backend_class(name)()
        try:
            chosen = solver.solve(catalog, deadline)
        except BackendGaveUpError:
            continue
        if chosen is not None:
            return _checked(problem, catalog, chosen, name)._replace(optimal=bool(solver.optimal))
        if solver.complete:  # a proof of impossibility; an incomplete "no" is only a doubt
            return _unsatisfiable(catalog, deadline, name)
    raise SolverBugError("the complete backend gave up")  # unreachable: libsolv never gives up


def _auto(problem: Problem, catalog: Catalog, deadline: Deadline) -> Result:
    """The first choice (`first_choice`) when it is valid and `certainly_optimal`: no solver
    is imported or encoded for it. Else clingo optimises the problem with every requested
    name pinned to its cheapest allowed candidate (`tier_one_floor`; for one requested
    name, then to its next ones, `pin_steps`): the first pinning with an answer holds the
    optimum, and neither libsolv's pool nor its solve is paid for.
    Otherwise (no pinning had an answer, or a requested name has providers) libsolv
    decides (fast, complete) and clingo optimises within the cost of libsolv's first
    answer (unrefined: refining it never made a cheaper bound on the suites). clingo gets
    OPTIMISE_SECONDS (or what is left of the bound), once for the pinned steps together
    and once for the bounded one; past it, clingo's best model (or libsolv's answer) is
    returned with `optimal=False`, and the bounded step is skipped if the pinned steps
    ran out of time."""
    quick = first_choice(catalog, deadline)
    if quick is not None:
        return quick
    budget, timed_out = _budget(deadline), False
    try:
        for pins in pin_steps(catalog):
            pinned = _optimised(problem, catalog, budget, pinned=pins, limit=PINNED_CANDIDATES)
            if pinned is not None:
                return pinned
    except SolveTimeoutError:  # no model in time: a pinning is not proved infeasible
        timed_out = True
    except BackendGaveUpError:  # a program this large is libsolv's first
        pass
    chosen = backend_class("libsolv")(refine=False).solve(catalog, deadline)
    if chosen is None:
        return _unsatisfiable(catalog, deadline, "libsolv")
    result = _checked(problem, catalog, chosen, "libsolv")
    if certainly_optimal(catalog, result.pins):  # only if a pinned step ran out of time
        return result._replace(optimal=True)
    if timed_out:  # clingo had its OPTIMISE_SECONDS: libsolv's answer, not proven
        return result
    bound = _cost(catalog, chosen, result.pins)
    try:
        better = _optimised(problem, catalog, _budget(deadline), bound=bound)
    except SolveTimeoutError:
        return result
    if better is None:
        raise SolverBugError("clingo found no solution where libsolv found one")
    return better


def _budget(deadline: Deadline) -> Deadline:
    left = deadline.left()
    return Deadline(OPTIMISE_SECONDS if left is None else min(left, OPTIMISE_SECONDS))


def _optimised(
    problem: Problem,
    catalog: Catalog,
    budget: Deadline,
    bound: tuple[int, int] | None = None,
    pinned: frozenset[int] = frozenset(),
    limit: int | None = None,
) -> Result | None:
    """clingo's optimum within `budget`: proven (`optimal=True`), or its best model when
    time ran out; None when it proved that there is no answer (under `pinned`).
    SolveTimeoutError when time ran out before any model; BackendGaveUpError when the
    program would hold more than `limit` candidates."""
    optimiser = backend_class("clingo")(anytime=True, bound=bound, pinned=pinned, limit=limit)
    better = optimiser.solve(catalog, budget)
    if better is None:
        return None
    return _checked(problem, catalog, better, "clingo")._replace(optimal=optimiser.proven)


def pin_steps(catalog: Catalog) -> list[frozenset[int]]:
    """What auto's pinned steps pin, in order: the floor (`tier_one_floor`), and with one
    requested name its next allowed candidates, PINS_TRIED in all. Tier 1 is the requested
    candidate's rank, so when the earlier pinnings are proved infeasible, the first with an
    answer holds the optimum. [] when there is no floor."""
    floor = tier_one_floor(catalog)
    names = {r.name for r in catalog.problem.requests}
    if floor is None or len(names) != 1:
        return [] if floor is None else [floor]
    allowed = _allowed(catalog, names.pop())
    return [frozenset([cid]) for cid in allowed[:PINS_TRIED]]


def tier_one_floor(catalog: Catalog) -> frozenset[int] | None:
    """For each requested name, its most preferred candidate that meets every request and
    constraint on it; None if some name has none, or if a requested name has providers.

    No answer has a lower tier 1 (each requested name is in every answer, as none can be
    met through a provide, with a candidate meeting those requirements), and an answer with
    this tier 1 has exactly these candidates. So if any answer contains them all, the
    optimum does, and clingo only needs the problem with those names pinned. (A bound on
    tier 2 from each dependency's cheapest match was measured too: 0-9 against optima of
    2-36 on the realistic benchmark, too weak to prune or prove anything; docs/solvers.md.)
    O(candidates of the requested names)."""
    floor = []
    for name in dict.fromkeys(r.name for r in catalog.problem.requests):
        allowed = _allowed(catalog, name)
        if not allowed:
            return None
        floor.append(allowed[0])
    return frozenset(floor)


def _allowed(catalog: Catalog, name: str) -> list[int]:
    """`name`'s candidates meeting every request and constraint on it, most preferred
    first; [] when the name has providers (a request could then be met by another name)."""
    if catalog.providers(name):
        return []
    problem = catalog.problem
    fits = [
        set(catalog.own_matches(r))
        for r in [*problem.requests, *problem.constraints]
        if r.name == name
    ]
    return [cid for cid in catalog.ids(name) if all(cid in f for f in fits)]


def first_choice(catalog: Catalog, deadline: Deadline) -> Result | None:
    """Each requirement met by its first match, from the requests down, when that is a valid
    answer that `certainly_optimal` proves (most small problems, cmpkg's main job and about
    two thirds of the conformance cases have one); else None and a solver decides. It costs
    a walk over the pins, O(pins x depends), where libsolv costs its import and a pool."""
    chosen: dict[str, Candidate] = {}
    todo = list(catalog.problem.requests)
    while todo:
        if len(chosen) % CHECK_EVERY == 0:
            deadline.check()
        hits = catalog.matches(todo.pop())
        if not hits:
            return None
        if any(chosen.get(catalog.candidates[c].name) is catalog.candidates[c] for c in hits):
            continue
        first = catalog.candidates[hits[0]]
        if first.name in chosen:  # another candidate of the name is chosen already
            return None
        chosen[first.name] = first
        todo.extend(first.depends)
    problem = catalog.problem
    if verify(problem, chosen):
        return None
    pins = needed(problem, chosen)
    return (
        Result(True, pins, None, "first-choice", True) if certainly_optimal(catalog, pins) else None
    )


def _cost(catalog: Catalog, chosen: list[int], pins: Mapping[str, Candidate]) -> tuple[int, int]:
    """Tiers 1 and 2 of the answer `pins` (the needed part of `chosen`): an upper bound on
    the optimum's, which lets clingo leave out what cannot be in a cheaper answer."""
    requested = {r.name for r in catalog.problem.requests}
    kept = [c for c in chosen if catalog.candidates[c].name in pins]
    tier1 = sum(catalog.rank(c) for c in kept if catalog.candidates[c].name in requested)
    return tier1, sum(catalog.rank(c) for c in kept) - tier1


def certainly_optimal(catalog: Catalog, pins: Mapping[str, Candidate]) -> bool:
    """True if `pins` (already pruned to what is needed) is provably optimal, cheaply.

    Requires that no requirement met by the pins could be met through a provide. A pin is
    *forced* when a requirement that exactly one candidate meets reaches it from the requests
    through forced pins: every valid answer contains it. Then `pins` is optimal if
    1. every requested pin is its name's first candidate or forced: no answer has a lower
       tier 1, and any answer with the same tier 1 has the same requested pins;
    2. every other pin is its name's first candidate or forced from the requested pins:
       such an answer contains the forced pins, its other pins cost at least 0, and at equal
       cost they are the same first candidates (each requirement names one first candidate),
       so it is `pins` (tiers 2 and 3).
    "Every pin first" (the common case) is the special case with nothing forced.
    O(pins x depends); `matches` is cached per requirement.
    """
    problem = catalog.problem
    reqs = [*problem.requests, *(r for c in pins.values() for r in c.depends)]
    if any(catalog.providers(r.name) for r in reqs):
        return False
    first = {n for n, c in pins.items() if c is problem.packages[n][0]}
    if len(first) == len(pins):
        return True
    requested = {r.name for r in problem.requests}
    unavoidable = _forced(catalog, list(problem.requests))
    if any(n not in first and n not in unavoidable for n in requested if n in pins):
        return False
    depends = [r for n in requested if n in pins for r in pins[n].depends]
    forced = _forced(catalog, [*problem.requests, *depends])
    return all(n in first or n in forced for n in pins)


def _forced(catalog: Catalog, start: list[Requirement]) -> set[str]:
    """Names reached from `start` through requirements that exactly one candidate meets."""
    forced: set[str] = set()
    todo = list(start)
    while todo:
        hits = catalog.matches(todo.pop())
        if len(hits) == 1 and catalog.candidates[hits[0]].name not in forced:
            forced.add(catalog.candidates[hits[0]].name)
            todo.extend(catalog.candidates[hits[0]].depends)
    return forced


def _checked(problem: Problem, catalog: Catalog, chosen: list[int], name: str) -> Result:
    pins = {catalog.candidates[c].name: catalog.candidates[c] for c in chosen}
    if len(pins) != len(chosen):
        raise SolverBugError(f"{name} chose two candidates of one name")
    faults = verify(problem, pins)
    if faults:
        raise SolverBugError(f"{name} returned an invalid answer: " + "; ".join(faults))
    return Result(True, needed(problem, pins), None, name)  # the caller says if optimal


def _unsatisfiable(catalog: Catalog, deadline: Deadline, name: str) -> Result:
    from solvers.explain import explain  # the explainer is only paid for when needed

    left = deadline.left()
    budget = EXPLAIN_SECONDS if left is None else min(left, EXPLAIN_SECONDS)
    explanation = explain(catalog, Deadline(budget), deadline)
    return Result(False, {}, explanation, name, optimal=True)


__all__ = ["Result", "SolveTimeoutError", "SolverBugError", "solve"]
