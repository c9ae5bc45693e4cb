"""The optimal backend: clingo (Potassco's ASP solver, CDCL with optimisation).

The problem is handed to clingo as a ground program in aspif, clingo's intermediate format
(no rule is grounded from variables): one choice atom per reachable candidate, a weight
constraint for "at most one per name", integrity constraints for requests and depends
(`:- x_c, not x_m1, not x_m2, ...` over the matches), conflicts and constraints, and three
minimise statements, one per tier of `solvers.solve.PREFERENCE_ORDER`:

  priority 3: sum of preference ranks of the candidates of requested names
  priority 2: sum of preference ranks of every other chosen candidate
  priority 1: number of chosen candidates

clingo proves optimality, so answers are exactly optimal for that objective.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import clingo

from solvers.backends import BackendGaveUpError, Deadline, SolveTimeoutError
from solvers.catalog import Catalog
from solvers.model import Requirement


class _Program:
    """The ground program as aspif text (clingo's own intermediate format), parsed by clingo
    in C from one `Control.add`: O(reachable candidates x requirements + matches).

    Building is the Python-bound part of this backend. Formatting lines and joining them
    once is about half the CPU of one `Backend.add_rule` call per rule through clingo's
    Python wrapper (measured: 9-131 ms -> 3-88 ms on the realistic benchmark's requests,
    the same optima and models). Atom `k` is the k-th id of `cids` (from 1)."""

    def __init__(self, catalog: Catalog, cids: list[int], deadline: Deadline) -> None:
        self.catalog = catalog
        self.deadline = deadline
        self.atom = {cid: k for k, cid in enumerate(cids, 1)}
        self.lines = ["asp 1 0 0"]
        self._unmet: dict[Requirement, tuple[int, str]] = {}

    def unmet(self, req: Requirement) -> tuple[int, str]:
        """(count, " -a1 -a2 ...") of the body literals true when no included match of `req`
        is chosen. One integrity constraint `:- x_c, not x_m1, not x_m2, ...` per edge is a
        third of the rules that `sat(q) :- x_m` atoms need (measured: clingo's median 0.30
        -> 0.25 s on the realistic profile)."""
        found = self._unmet.get(req)
        if found is None:
            atom = self.atom
            lits = [atom[c] for c in self.catalog.matches(req) if c in atom]
            found = self._unmet[req] = (len(lits), "".join(f" -{a}" for a in lits))
        return found

    def text(self) -> str:
        catalog, atom, out = self.catalog, self.atom, self.lines
        out.append(f"1 1 {len(atom)}{_joined(atom.values())} 0 0")  # {x_c}.
        by_name: dict[str, list[int]] = {}
        for cid, a in atom.items():
            by_name.setdefault(catalog.candidates[cid].name, []).append(a)
        for lits in by_name.values():  # :- 2 {x_c : c of the name}.
            if len(lits) > 1:
                out.append(f"1 0 0 1 2 {len(lits)} " + " ".join(f"{a} 1" for a in lits))
        for req in catalog.problem.requests:
            count, body = self.unmet(req)
            out.append(f"1 0 0 0 {count}{body}")
        for n, (cid, a) in enumerate(atom.items()):
            if n % 1024 == 0:  # building is Python-bound; honour the bound while at it
                self.deadline.check()
            self._candidate_rules(cid, a)
        for req in catalog.problem.constraints:
            allowed = set(catalog.own_matches(req))
            out += [
                f"1 0 0 0 1 {atom[c]}"
                for c in catalog.ids(req.name)
                if c in atom and c not in allowed
            ]
        self._objective()
        out.append("0\n")
        return "\n".join(out)

    def _candidate_rules(self, cid: int, a: int) -> None:
        cand, atom, out = self.catalog.candidates[cid], self.atom, self.lines
        for req in cand.depends:
            count, body = self.unmet(req)
            out.append(f"1 0 0 0 {count + 1} {a}{body}")
        for req in cand.conflicts:
            for other in self.catalog.matches(req):
                if other != cid and other in atom:
                    out.append(f"1 0 0 0 2 {a} {atom[other]}")

    def _objective(self) -> None:
        """One minimise statement per tier: `2 priority count atom weight ...`."""
        catalog = self.catalog
        requested = {r.name for r in catalog.problem.requests}
        tiers: dict[int, list[str]] = {3: [], 2: []}
        for cid, a in self.atom.items():
            rank = catalog.rank(cid)
            if rank:
                tiers[3 if catalog.candidates[cid].name in requested else 2].append(f"{a} {rank}")
        for priority, lits in tiers.items():
            if lits:
                self.lines.append(f"2 {priority} {len(lits)} " + " ".join(lits))
        ones = "".join(f" {a} 1" for a in self.atom.values())
        self.lines.append(f"2 1 {len(self.atom)}{ones}")


def _joined(atoms: Iterable[int]) -> str:
    """ " a1 a2 ..." (aspif separates every token by exactly one space)."""
    return "".join(f" {a}" for a in atoms)


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

    def __init__(
        self,
        anytime: bool = False,
        bound: tuple[int, int] | None = None,
        pinned: frozenset[int] = frozenset(),
        limit: int | None = None,
    ) -> None:
        self.anytime = anytime
        # auto passes (tier 1, tier 2) of libsolv's answer: an optimum costs no more, so the
        # program leaves out what cannot be in it (`_excluded`) and what only that reaches.
        self.bound = bound
        # auto passes one candidate per requested name (`solvers.solve.tier_one_floor`): the
        # program then holds no other candidate of those names, nor what only they reach.
        self.pinned = pinned
        self.limit = limit  # more reachable candidates than this: BackendGaveUpError
        self.proven = False  # set by solve: True when clingo finished (optimum proven)

    def solve(self, catalog: Catalog, deadline: Deadline) -> list[int] | None:
        # usc (core-guided) proved optima faster than bb (model-guided) in our measurements.
        ctl = clingo.Control(["--opt-mode=opt", "--opt-strategy=usc", "--warn=none"])
        cids = catalog.reachable(catalog.problem.requests, deadline.check, self._excluded(catalog))
        if self.limit is not None and len(cids) > self.limit:
            raise BackendGaveUpError(f"{len(cids)} candidates, more than {self.limit}")
        program = _Program(catalog, cids, deadline)
        ctl.add("base", [], program.text())  # aspif: parsed, not grounded from rules
        deadline.check()
        ctl.ground([("base", [])])
        deadline.check()
        return self._search(ctl, {atom: cid for cid, atom in program.atom.items()}, deadline)

    def _excluded(self, catalog: Catalog) -> Callable[[int], bool] | None:
        """Candidates that no answer within `bound` = (t1, t2) contains: one of a requested
        name ranked beyond t1 makes tier 1 exceed t1; when t1 is 0 (so the optimum's tier 1
        is 0 too), any other candidate ranked beyond t2 makes tier 2 exceed t2. On the
        realistic benchmark this cut the candidates a request reaches from 8,000-13,700 to
        mostly 700-4,000 (clingo's time per request by 1.5-20x)."""
        if self.bound is None and not self.pinned:
            return None
        t1, t2 = self.bound or (None, None)
        requested = {r.name for r in catalog.problem.requests}
        limit = t2 if t1 == 0 else None
        pinned, pinned_names = self.pinned, set(catalog.names_of(self.pinned))

        def excluded(cid: int) -> bool:
            rank = catalog.rank(cid)
            name = catalog.candidates[cid].name
            if name in pinned_names and cid not in pinned:
                return True
            if name in requested:
                return t1 is not None and rank > t1
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
