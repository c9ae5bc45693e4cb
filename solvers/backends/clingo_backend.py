"""The optimal backend: clingo (Potassco's ASP solver, CDCL with optimisation).

The problem is handed to clingo as ground rules through its backend API (no text program is
parsed or grounded): one choice atom per reachable candidate, a weight constraint for "at
most one per name", integrity constraints for requests and depends (`:- x_c, not x_m1,
not x_m2, ...` over the matches), conflicts and constraints, and three minimise statements,
one per tier of `solvers.solve.PREFERENCE_ORDER`:

  priority 3: sum of preference ranks of the candidates of requested names
  priority 2: sum of preference ranks of every other chosen candidate
  priority 1: number of chosen candidates

clingo proves optimality, so answers are exactly optimal for that objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import clingo

from solvers.backends import Deadline, SolveTimeoutError
from solvers.catalog import Catalog
from solvers.model import Requirement


class _Builder:
    """Adds the ground program; O(reachable candidates x requirements + matches)."""

    def __init__(self, catalog: Catalog, backend: Any, cids: list[int], deadline: Deadline) -> None:
        self.catalog = catalog
        self.deadline = deadline
        self.b = backend
        self.included = set(cids)
        self.atom = {cid: backend.add_atom() for cid in cids}
        self._unmet: dict[Requirement, list[int]] = {}

    def unmet(self, req: Requirement) -> list[int]:
        """Body literals true when no included match of `req` is chosen.

        One integrity constraint `:- x_c, not x_m1, not x_m2, ...` per edge is a third of
        the rules that `sat(q) :- x_m` atoms need, and building is the Python-bound part of
        this backend (measured: clingo's median 0.30 -> 0.25 s on the realistic profile)."""
        lits = self._unmet.get(req)
        if lits is None:
            lits = [-self.atom[c] for c in self.catalog.matches(req) if c in self.included]
            self._unmet[req] = lits
        return lits

    def build(self) -> None:
        catalog = self.catalog
        self.b.add_rule(list(self.atom.values()), [], choice=True)
        for name in {catalog.candidates[c].name for c in self.atom}:
            lits = [(self.atom[c], 1) for c in catalog.ids(name) if c in self.included]
            self.b.add_weight_rule([], 2, lits)
        for req in catalog.problem.requests:
            self.b.add_rule([], self.unmet(req))
        for count, (cid, atom) in enumerate(self.atom.items()):
            if count % 1024 == 0:  # building is Python-bound; honour the bound while at it
                self.deadline.check()
            self._candidate_rules(cid, atom)
        for req in catalog.problem.constraints:
            allowed = set(catalog.own_matches(req))
            for cid in catalog.ids(req.name):
                if cid in self.included and cid not in allowed:
                    self.b.add_rule([], [self.atom[cid]])
        self._objective()

    def _candidate_rules(self, cid: int, atom: int) -> None:
        cand = self.catalog.candidates[cid]
        for req in cand.depends:
            self.b.add_rule([], [atom, *self.unmet(req)])
        for req in cand.conflicts:
            for other in self.catalog.matches(req):
                if other != cid and other in self.included:
                    self.b.add_rule([], [atom, self.atom[other]])

    def _objective(self) -> None:
        requested = {r.name for r in self.catalog.problem.requests}
        tiers: dict[int, list[tuple[int, int]]] = {3: [], 2: []}
        for cid, atom in self.atom.items():
            rank = self.catalog.rank(cid)
            if rank:
                tiers[3 if self.catalog.candidates[cid].name in requested else 2].append(
                    (atom, rank)
                )
        for priority, lits in tiers.items():
            if lits:
                self.b.add_minimize(priority, lits)
        self.b.add_minimize(1, [(atom, 1) for atom in self.atom.values()])


class ClingoBackend:
    """Complete and exactly optimal when it finishes. Cost: one build over the reachable
    candidates, O(reachable x requirements), plus clingo's optimisation.

    With `anytime`, running out of time returns the best model found so far instead of
    raising SolveTimeoutError. (Seeding clingo's sign heuristic with libsolv's answer was
    measured and made optimisation slower; see docs/solvers.md.)
    """

    name = "clingo"
    complete = True
    optimal = True

    def __init__(self, anytime: bool = False, bound: tuple[int, int] | None = None) -> None:
        self.anytime = anytime
        # auto passes (tier 1, tier 2) of libsolv's answer: an optimum costs no more, so the
        # program leaves out what cannot be in it (`_excluded`) and what only that reaches.
        self.bound = bound
        self.proven = False  # set by solve: True when clingo finished (optimum proven)

    def solve(self, catalog: Catalog, deadline: Deadline) -> list[int] | None:
        # usc (core-guided) proved optima faster than bb (model-guided) in our measurements.
        ctl = clingo.Control(["--opt-mode=opt", "--opt-strategy=usc", "--warn=none"])
        cids = catalog.reachable(catalog.problem.requests, deadline.check, self._excluded(catalog))
        with ctl.backend() as backend:
            builder = _Builder(catalog, backend, cids, deadline)
            builder.build()
        deadline.check()
        return self._search(ctl, {atom: cid for cid, atom in builder.atom.items()}, deadline)

    def _excluded(self, catalog: Catalog) -> Callable[[int], bool] | None:
        """Candidates that no answer within `bound` = (t1, t2) contains: one of a requested
        name ranked beyond t1 makes tier 1 exceed t1; when t1 is 0 (so the optimum's tier 1
        is 0 too), any other candidate ranked beyond t2 makes tier 2 exceed t2. On the
        realistic benchmark this cut the candidates a request reaches from 8,000-13,700 to
        mostly 700-4,000 (clingo's time per request by 1.5-20x)."""
        if self.bound is None:
            return None
        t1, t2 = self.bound
        requested = {r.name for r in catalog.problem.requests}
        limit = t2 if t1 == 0 else None

        def excluded(cid: int) -> bool:
            rank = catalog.rank(cid)
            if catalog.candidates[cid].name in requested:
                return rank > t1
            return limit is not None and rank > limit

        return excluded

    def _search(
        self, ctl: clingo.Control, by_atom: dict[int, int], deadline: Deadline
    ) -> list[int] | None:
        best: list[list[int]] = []

        def on_model(model: clingo.Model) -> None:
            best.append([by_atom[a] for a in by_atom if model.is_true(a)])

        with ctl.solve(on_model=on_model, async_=True) as handle:
            if not handle.wait(deadline.left()):
                handle.cancel()
                if self.anytime and best:
                    return sorted(best[-1])
                raise SolveTimeoutError("clingo ran out of time")
            outcome = handle.get()
        self.proven = True
        return sorted(best[-1]) if outcome.satisfiable else None
