"""The complete backend: libsolv (the SAT solver of dnf, zypper and mamba) via `import solv`.

Encoding (why each choice):
- one solvable per candidate, named `p:<name>`, so libsolv's same-name rule gives "at most
  one candidate per name" without extra clauses;
- PEP 440 never reaches libsolv: each distinct requirement becomes a synthetic token `r:<k>`
  that exactly its matching candidates provide, so rpm's EVR ordering cannot disagree with
  PEP 440 on what matches;
- the EVR is the preference rank (most preferred = highest), so libsolv's own policy already
  tries the preferred candidate first;
- conflicts are conflicts on tokens; libsolv ignores a solvable's conflict with itself, which
  is our rule too ("provides X, conflicts X" means mutual exclusion);
- constraints are lock jobs on the candidates of the name they exclude.

libsolv alone returns *a* solution, found greedily. `LibsolvBackend` then improves it by a
bounded lexicographic refinement: walking the pins breadth-first from the requests, it tries
each more preferred candidate with every earlier pin fixed, keeping the first that is
satisfiable. That is a weaker objective than `solvers.solve.PREFERENCE_ORDER` (which sums
ranks; see the clingo backend), so this backend never claims `optimal`.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable
from typing import Any

import solv

from solvers.backends import Deadline
from solvers.backends.worker import bounded
from solvers.catalog import Catalog
from solvers.model import Requirement

_INSTALL = solv.Job.SOLVER_INSTALL
_LOCK = solv.Job.SOLVER_LOCK
_ONE = solv.Job.SOLVER_SOLVABLE
_PROVIDES = solv.Job.SOLVER_SOLVABLE_PROVIDES
_ONE_OF = solv.Job.SOLVER_SOLVABLE_ONE_OF
# The refinement is a nicety (libsolv is not the optimal backend): past this bound the
# answer found so far, already valid, is returned. Huge dense problems end here.
REFINE_SECONDS = 2.0
# Candidates encoded between two deadline checks (a few milliseconds of Python).
CHECK_EVERY = 512


class Encoding:
    """A libsolv pool for the candidates `cids` of a catalog, extensible by `extend`.

    With `switchable=True` every depends edge (cid, j) gets its own token plus a "relax"
    solvable that also provides it; locking the relax solvable enforces the edge, leaving it
    unlocked drops it. The explainer uses this to minimise an unsatisfiable core without
    rebuilding the pool. Building costs O(encoded candidates x requirements + matches) and
    checks `deadline` every `CHECK_EVERY` candidates (it is the Python-bound part).
    """

    def __init__(
        self,
        catalog: Catalog,
        cids: Iterable[int],
        switchable: bool = False,
        deadline: Deadline | None = None,
    ) -> None:
        self.catalog = catalog
        self.pool = solv.Pool()
        self.pool.setarch("x86_64")
        self.repo = self.pool.add_repo("problem")
        self.included: set[int] = set()
        self.cid_of: dict[int, int] = {}
        self.solvable_id: dict[int, int] = {}
        self.relax_id: dict[tuple[int, int], int] = {}
        self._tokens: dict[Requirement, int] = {}
        self._token_names: dict[str, list[Requirement]] = {}
        self._provides: dict[int, list[int]] = {}  # of candidates prepared, not yet added
        self._pending: list[int] = []  # included, not yet in the pool (see `extend`)
        self._switchable = switchable
        for req in catalog.problem.requests:
            self.token(req)
        self.extend(cids, deadline or Deadline(None))

    def token(self, req: Requirement) -> int:
        """The dep id that exactly the included matches of `req` provide (candidates not
        prepared yet get it from `_existing_tokens` when their turn comes)."""
        dep = self._tokens.get(req)
        if dep is None:
            dep = int(self.pool.str2id(f"r:{len(self._tokens)}"))
            self._tokens[req] = dep
            self._token_names.setdefault(req.name, []).append(req)
            for cid in self.catalog.matches(req):
                if cid in self.solvable_id:  # already in the pool: extend its provides
                    self.pool.solvables[self.solvable_id[cid]].add_deparray(
                        solv.SOLVABLE_PROVIDES, dep
                    )
                elif cid in self._provides:
                    self._provides[cid].append(dep)
        return dep

    def extend(self, cids: Iterable[int], deadline: Deadline) -> None:
        """Add the candidates `cids` not in the pool yet (each one's depends must be matched
        by candidates already in, or in `cids`: callers pass closed sets). O(new ones x
        their requirements), plus libsolv's O(pool) index rebuild when anything was new.

        Work goes in chunks of `CHECK_EVERY` candidates with a deadline check between them;
        a chunk is all or nothing, so an interrupted extension leaves a consistent pool and
        the rest pending, and the next call finishes it (a dense index is encoded across
        requests instead of never)."""
        new = [cid for cid in cids if cid not in self.included]
        self.included.update(new)
        self._pending.extend(new)
        if not self._pending:
            return
        # The explainer's edge tokens are given out eagerly: one chunk for everything.
        size = len(self._pending) if self._switchable else CHECK_EVERY
        while self._pending:
            deadline.check()
            chunk = self._pending[:size]
            self._add_chunk(chunk)
            del self._pending[: len(chunk)]
        self.repo.internalize()
        self.pool.createwhatprovides()

    def _add_chunk(self, chunk: list[int]) -> None:
        for cid in chunk:
            self._provides[cid] = self._existing_tokens(cid)
        requires = {
            cid: [
                self._edge_token(cid, j, req) if self._switchable else self.token(req)
                for j, req in enumerate(self.catalog.candidates[cid].depends)
            ]
            for cid in chunk
        }
        conflicts = {
            cid: [self.token(r) for r in self.catalog.candidates[cid].conflicts] for cid in chunk
        }
        for cid in chunk:
            self._add_candidate(cid, requires[cid], conflicts[cid])
            del self._provides[cid]

    def _existing_tokens(self, cid: int) -> list[int]:
        """Tokens made before `cid` joined whose requirement it meets (by name or provide);
        the same rule as `Catalog.matches`."""
        cand = self.catalog.candidates[cid]
        found = [
            self._tokens[req]
            for req in self._token_names.get(cand.name, ())
            if req.allows(cand.version, cand.variant)
        ]
        for pname, pversion in cand.provides:
            found += [
                self._tokens[req]
                for req in self._token_names.get(pname, ())
                if req.allows(pversion, cand.variant)
            ]
        return list(dict.fromkeys(found))

    def _edge_token(self, cid: int, j: int, req: Requirement) -> int:
        dep = int(self.pool.str2id(f"e:{cid}:{j}"))
        for match in self.catalog.matches(req):
            if match in self._provides:
                self._provides[match].append(dep)
        relax = self.repo.add_solvable()
        relax.name, relax.evr, relax.arch = f"x:{cid}:{j}", "0", "noarch"
        relax.add_deparray(solv.SOLVABLE_PROVIDES, dep)
        self.relax_id[(cid, j)] = relax.id
        return dep

    def _add_candidate(self, cid: int, requires: list[int], conflicts: list[int]) -> None:
        cand = self.catalog.candidates[cid]
        rank = len(self.catalog.ids(cand.name)) - self.catalog.rank(cid)
        s = self.repo.add_solvable()
        s.name, s.evr, s.arch = f"p:{cand.name}", str(rank), "noarch"
        pool = self.pool
        s.add_deparray(
            solv.SOLVABLE_PROVIDES,
            pool.rel2id(pool.str2id(s.name), pool.str2id(s.evr), solv.REL_EQ),
        )
        for dep in self._provides[cid]:
            s.add_deparray(solv.SOLVABLE_PROVIDES, dep)
        for dep in requires:
            s.add_deparray(solv.SOLVABLE_REQUIRES, dep)
        for dep in conflicts:
            s.add_deparray(solv.SOLVABLE_CONFLICTS, dep)
        self.solvable_id[cid] = s.id
        self.cid_of[s.id] = cid

    def request_jobs(self, requests: Iterable[Requirement]) -> list[Any]:
        """Install one of the included matches of each request. A selection instead of a
        token, so requests never seen when the pool was built need no new provides."""
        jobs = []
        for req in requests:
            ids = [self.solvable_id[c] for c in self.catalog.matches(req) if c in self.included]
            if ids:
                jobs.append(self.pool.Job(_INSTALL | _ONE_OF, self.pool.towhatprovides(ids)))
            else:  # nothing provides this token: libsolv reports the request as impossible
                jobs.append(self.pool.Job(_INSTALL | _PROVIDES, self.pool.str2id("none:")))
        return jobs

    def constraint_jobs(self, constraints: Iterable[Requirement]) -> list[Any]:
        """Lock out the included candidates of a constrained name that it does not allow."""
        jobs = []
        for req in constraints:
            allowed = set(self.catalog.own_matches(req))
            for cid in self.catalog.ids(req.name):
                if cid in self.included and cid not in allowed:
                    jobs.append(self.pool.Job(_LOCK | _ONE, self.solvable_id[cid]))
        return jobs

    def pin_job(self, cid: int) -> Any:
        return self.pool.Job(_INSTALL | _ONE, self.solvable_id[cid])

    def lock_relax_jobs(self, edges: Iterable[tuple[int, int]]) -> list[Any]:
        return [self.pool.Job(_LOCK | _ONE, self.relax_id[e]) for e in edges]

    def run(self, jobs: list[Any]) -> list[int] | None:
        """One libsolv solve: chosen candidate ids (relax solvables dropped) or None."""
        solver = self.pool.Solver()
        if solver.solve(jobs):
            return None
        chosen = solver.transaction().newsolvables()
        return [self.cid_of[s.id] for s in chosen if s.id in self.cid_of]

    def problem_edges(self, jobs: list[Any]) -> set[tuple[int, int]]:
        """The switchable edges in the rules libsolv blames for an unsatisfiable `jobs`:
        a small superset-candidate for the explainer's core, found in one solve."""
        edges: set[tuple[int, int]] = set()
        solver = self.pool.Solver()  # must outlive the problems (they point into it)
        for problem in solver.solve(jobs):
            for rule in problem.findallproblemrules():
                dep = rule.info().dep
                text = str(dep) if dep is not None else ""
                if text.startswith("e:"):
                    _, cid, j = text.split(":")
                    edges.add((int(cid), int(j)))
        return edges


class LibsolvBackend:
    """Complete, not optimal: the refinement moves answers toward the preference order but
    proves nothing (the module docstring says why); `solve("auto")` asks clingo for proof.
    Cost: one libsolv solve, plus one per more-preferred candidate tried during refinement
    (usually none)."""

    name = "libsolv"
    complete = True
    optimal = False

    def __init__(self, refine: bool = True) -> None:
        # auto passes False: it proves libsolv's first answer optimal or asks clingo, and
        # the refinement (one more solve per more preferred candidate tried) proved not one
        # more answer optimal on the conformance and scenario suites (docs/solvers.md).
        self.refine = refine

    def solve(self, catalog: Catalog, deadline: Deadline) -> list[int] | None:
        """The pool is grown here, in this process (Python, deadline-checked, kept for the
        next request); the solves themselves, C calls that nothing can interrupt, run in a
        child killed at the deadline (`worker.bounded`)."""
        problem = catalog.problem
        enc = _encoding_for(catalog, deadline)
        base = enc.request_jobs(problem.requests) + enc.constraint_jobs(problem.constraints)
        chosen: list[int] | None = bounded(lambda: self._answer(enc, base, deadline), deadline)
        return chosen

    def _answer(self, enc: Encoding, base: list[Any], deadline: Deadline) -> list[int] | None:
        started = time.monotonic()
        first = enc.run(base)
        if first is None or not self.refine:
            return first
        took = time.monotonic() - started
        left = deadline.left()
        return _refine(
            enc,
            base,
            first,
            Deadline(REFINE_SECONDS if left is None else min(REFINE_SECONDS, left)),
            took,
        )


def _encoding_for(catalog: Catalog, deadline: Deadline) -> Encoding:
    """One pool per package set, kept in the catalog's cache (shared by `Catalog.rebind`)
    and extended by what each request newly reaches: the first request encodes its
    reachable candidates, a later one only those it reaches beyond them. An extension that
    the deadline interrupts is kept, consistent, and finished by the next request."""
    enc = catalog.cache.get("libsolv")
    if not isinstance(enc, Encoding):
        enc = catalog.cache["libsolv"] = Encoding(catalog, (), deadline=deadline)
    enc.extend(_beyond(catalog, enc.included, deadline), deadline)
    return enc


def _beyond(catalog: Catalog, included: set[int], deadline: Deadline) -> list[int]:
    """Candidates reachable from the requests that are not in `included`. The pool is closed
    under depends (it holds whole reachable sets), so the walk stops at its candidates:
    O(newly reached candidates x their depends + matches of the requests)."""
    seen: set[int] = set()
    todo = list(catalog.problem.requests)
    done: set[Requirement] = set()
    deadline.check()  # before building anything: a lazy problem builds what this walk reaches
    while todo:
        req = todo.pop()
        if req in done:
            continue
        done.add(req)
        for cid in catalog.matches(req):
            if cid not in included and cid not in seen:
                seen.add(cid)
                todo.extend(catalog.candidates[cid].depends)
                if len(seen) % CHECK_EVERY == 0:
                    deadline.check()
    return sorted(seen)


def _refine(
    enc: Encoding, base: list[Any], chosen: list[int], budget: Deadline, took: float
) -> list[int]:
    """Lexicographic improvement: BFS over pins from the requests; for each, the most
    preferred candidate that stays satisfiable with all earlier pins fixed. Each step costs
    one libsolv solve (about `took` seconds, and not interruptible) per more preferred
    candidate tried, so a step starts only while `budget` (REFINE_SECONDS, or what is left
    of the caller's bound) has more than `took` left: the answer found so far, already
    valid, is returned rather than running past the bound."""
    catalog = enc.catalog
    fixed: list[Any] = []
    done: set[str] = set()
    queue = deque(catalog.problem.requests)
    while queue and (budget.left() or 0.0) > took:
        req = queue.popleft()
        pin = _satisfier(catalog, set(chosen), req)
        if pin is None or catalog.candidates[pin].name in done:
            continue
        chosen, pin = _improve(enc, base + fixed, chosen, pin, budget, took)
        done.add(catalog.candidates[pin].name)
        fixed.append(enc.pin_job(pin))
        queue.extend(catalog.candidates[pin].depends)
    return chosen


def _satisfier(catalog: Catalog, chosen: set[int], req: Requirement) -> int | None:
    return next((cid for cid in catalog.matches(req) if cid in chosen), None)


def _improve(
    enc: Encoding,
    jobs: list[Any],
    chosen: list[int],
    pin: int,
    budget: Deadline,
    took: float,
) -> tuple[list[int], int]:
    catalog = enc.catalog
    for better in catalog.ids(catalog.candidates[pin].name):
        if better == pin:
            break
        if better not in enc.included:
            continue
        if (budget.left() or 0.0) <= took:
            break
        answer = enc.run([*jobs, enc.pin_job(better)])
        if answer is not None:
            return answer, better
    return chosen, pin
