"""The fast, incomplete backend: resolvelib (pip's resolver) over the problem.

Identifiers are names. A requirement on N may be met by a candidate of another name P that
provides N; such a candidate appears under identifier N as a *proxy* whose one dependency pins
the same candidate under identifier P, so "one candidate per name" still holds.
Conflicts become "not" requirements that an *absent* placeholder also satisfies; the
placeholder is preferred when nothing positively needs the name, so conflicts never force a
package in. Constraints filter the name's own candidates in `find_matches`.

resolvelib is sound here but incomplete (it can wrongly report no solution, resolvelib
issue #206, and cannot see conflicts met through a provide), so every "impossible" is
`BackendGaveUpError`: the caller confirms it with the complete backend.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from resolvelib import AbstractProvider, BaseReporter, Resolver
from resolvelib.resolvers import ResolutionImpossible, ResolutionTooDeep

from solvers.backends import BackendGaveUpError, Deadline
from solvers.catalog import Catalog
from solvers.model import Requirement

MAX_ROUNDS = 20_000  # bounds resolvelib's backtracking state (its memory) as well as time


@dataclass(frozen=True, slots=True)
class _Cand:
    ident: str
    cid: int | None  # None: the name stays absent (only "not" requirements on it)


@dataclass(frozen=True, slots=True)
class _Req:
    ident: str
    kind: str  # "need": meet req; "pin": be exactly cid; "not": not meet req (except origin)
    req: Requirement | None = None
    cid: int | None = None


class _Provider(AbstractProvider[_Req, _Cand, str]):
    """Called O(rounds) times per method; each call costs O(candidates of one name)."""

    def __init__(self, catalog: Catalog, deadline: Deadline) -> None:
        self.catalog = catalog
        self.deadline = deadline
        self._sets: dict[Requirement, frozenset[int]] = {}
        self._constraints: dict[str, list[Requirement]] = {}
        for req in catalog.problem.constraints:
            self._constraints.setdefault(req.name, []).append(req)

    def _set(self, req: Requirement) -> frozenset[int]:
        hit = self._sets.get(req)
        if hit is None:
            hit = self._sets[req] = frozenset(self.catalog.matches(req))
        return hit

    def identify(self, requirement_or_candidate: Any) -> str:
        return str(requirement_or_candidate.ident)

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Any],
        candidates: Mapping[str, Iterator[Any]],
        information: Mapping[str, Iterator[Any]],
        backtrack_causes: Sequence[Any],
    ) -> Any:
        # Exact pins first (they cannot branch), then names involved in the last conflict
        # (pip's heuristic: fail fast), then by name for determinism.
        infos = list(information[identifier])
        pinned = any(i.requirement.kind == "pin" for i in infos)
        causes = {c.requirement.ident for c in backtrack_causes}
        return (not pinned, identifier not in causes, identifier)

    def _universe(self, ident: str) -> list[int]:
        own = [
            cid
            for cid in self.catalog.ids(ident)
            if all(cid in self._own(r) for r in self._constraints.get(ident, ()))
        ]
        return own + [cid for cid, _ in self.catalog.providers(ident) if cid not in own]

    def _own(self, req: Requirement) -> frozenset[int]:
        return frozenset(self.catalog.own_matches(req))

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[_Cand]],
    ) -> list[_Cand]:
        self.deadline.check()
        reqs = list(requirements[identifier])
        bad = {c.cid for c in incompatibilities[identifier]}
        found = [_Cand(identifier, cid) for cid in dict.fromkeys(self._universe(identifier))]
        if all(r.kind == "not" for r in reqs):
            found.insert(0, _Cand(identifier, None))
        return [
            c for c in found if c.cid not in bad and all(self.is_satisfied_by(r, c) for r in reqs)
        ]

    def is_satisfied_by(self, requirement: _Req, candidate: _Cand) -> bool:
        cid = candidate.cid
        if requirement.kind == "pin":
            return cid == requirement.cid
        assert requirement.req is not None
        if requirement.kind == "need":
            return cid is not None and cid in self._set(requirement.req)
        return cid is None or cid == requirement.cid or cid not in self._set(requirement.req)

    def get_dependencies(self, candidate: _Cand) -> Iterable[_Req]:
        if candidate.cid is None:
            return []
        cand = self.catalog.candidates[candidate.cid]
        if cand.name != candidate.ident:
            return [_Req(cand.name, "pin", cid=candidate.cid)]
        needs = [_Req(r.name, "need", r) for r in cand.depends]
        return needs + [_Req(r.name, "not", r, candidate.cid) for r in cand.conflicts]


class ResolvelibBackend:
    """Incomplete: an "impossible" raises BackendGaveUpError. Not optimal in general: it picks
    the most preferred candidate per name greedily, in its own order of names."""

    name = "resolvelib"
    complete = False
    optimal = False

    def solve(self, catalog: Catalog, deadline: Deadline) -> list[int] | None:
        provided = catalog.provided()
        for cid in catalog.reachable(catalog.problem.requests) if provided else ():
            if any(r.name in provided for r in catalog.candidates[cid].conflicts):
                raise BackendGaveUpError("a conflict on a provided name")
        resolver: Resolver[_Req, _Cand, str] = Resolver(
            _Provider(catalog, deadline), BaseReporter()
        )
        requests = [_Req(r.name, "need", r) for r in catalog.problem.requests]
        try:
            result = resolver.resolve(requests, max_rounds=MAX_ROUNDS)
        except (ResolutionImpossible, ResolutionTooDeep) as exc:
            raise BackendGaveUpError(type(exc).__name__) from exc
        except RecursionError as exc:
            # resolvelib walks some dependency cycles recursively (found by the property
            # tests): like any other give-up, the complete backend answers instead.
            raise BackendGaveUpError("resolvelib recursed too deeply") from exc
        return sorted(
            c.cid
            for ident, c in result.mapping.items()
            if c.cid is not None and catalog.candidates[c.cid].name == ident
        )
