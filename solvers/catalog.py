"""Integer ids for candidates and the cached answer to "which candidates meet this requirement".

Both backends and the explainer work on ids; the matching rule lives here and in
`Candidate.satisfies` (the verifier's independent, slower path) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable

from solvers.model import Candidate, Problem, Requirement


class Catalog:
    """Every candidate of a problem under a dense id, in preference order per name.

    Building costs O(candidates + provides). `matches` costs O(candidates of the name and
    its providers) the first time per distinct requirement and O(1) after.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.candidates: list[Candidate] = []
        self.by_name: dict[str, list[int]] = {}
        self._rank: list[int] = []
        self.providers: dict[str, list[tuple[int, str]]] = {}
        self._matches: dict[Requirement, tuple[int, ...]] = {}
        # Backends keep per-index artefacts here (libsolv's whole-index pool); shared by rebind.
        self.cache: dict[str, object] = {}
        for name, cands in problem.packages.items():
            ids = self.by_name.setdefault(name, [])
            for position, cand in enumerate(cands):
                self._rank.append(position)
                ids.append(len(self.candidates))
                self._index_provides(len(self.candidates), cand)
                self.candidates.append(cand)

    def _index_provides(self, cid: int, cand: Candidate) -> None:
        for pname, pversion in cand.provides:
            self.providers.setdefault(pname, []).append((cid, pversion))

    def rank(self, cid: int) -> int:
        """Position of `cid` among its name's candidates (0 = most preferred)."""
        return self._rank[cid]

    def own_matches(self, req: Requirement) -> tuple[int, ...]:
        """Candidates *named* `req.name` that meet `req` (constraints use only these)."""
        return tuple(
            cid
            for cid in self.by_name.get(req.name, ())
            if req.allows(self.candidates[cid].version, self.candidates[cid].variant)
        )

    def matches(self, req: Requirement) -> tuple[int, ...]:
        """Candidates meeting `req` by name or by a provide, own-name candidates first
        in preference order, then providers in index order. Each id appears once."""
        hit = self._matches.get(req)
        if hit is None:
            own = self.own_matches(req)
            extra = [
                cid
                for cid, version in self.providers.get(req.name, ())
                if cid not in own and req.allows(version, self.candidates[cid].variant)
            ]
            hit = own + tuple(dict.fromkeys(extra))
            self._matches[req] = hit
        return hit

    def names_of(self, cids: Iterable[int]) -> list[str]:
        return [self.candidates[c].name for c in cids]

    def reachable(self, requests: Iterable[Requirement]) -> list[int]:
        """Ids of every candidate that some chain of depends from `requests` could choose.

        Only these can appear in a needed answer, so backends encode only these.
        Cost: O(reachable candidates x their depends), each requirement matched once.
        """
        seen: set[int] = set()
        todo = list(requests)
        done_reqs: set[Requirement] = set()
        while todo:
            req = todo.pop()
            if req in done_reqs:
                continue
            done_reqs.add(req)
            for cid in self.matches(req):
                if cid not in seen:
                    seen.add(cid)
                    todo.extend(self.candidates[cid].depends)
        return sorted(seen)

    def rebind(self, problem: Problem) -> Catalog:
        """A catalog for `problem`, sharing this one's tables when the packages are the same
        object (batch cases), so the index is built and matched once. O(1) in that case."""
        if problem.packages is not self.problem.packages:
            return Catalog(problem)
        other = object.__new__(Catalog)
        other.__dict__.update(self.__dict__)
        other.problem = problem
        return other
