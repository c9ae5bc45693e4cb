"""Integer ids for candidates and the cached answer to "which candidates meet this requirement".

Both backends and the explainer work on ids; the matching rule lives here and in
`Candidate.satisfies` (the verifier's independent, slower path) and nowhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from solvers.model import (
    Candidate,
    LazyPackages,
    Problem,
    Requirement,
    package_sizes,
    provider_names,
)

# Requirements matched between two deadline checks in long walks (a few ms of Python).
CHECK_EVERY = 512
# What an id holds until its name is first looked up (never returned: ids come from `ids`).
_UNBUILT = Candidate("", "0")


class Catalog:
    """Every candidate of a problem under a dense id, in preference order per name.

    Ids are fixed at creation (a name's candidates get consecutive ids, in index order).
    With a `LazyPackages` problem a name's candidates are built only when `ids` first asks
    for it, so only what the requests reach is ever validated and built, and
    `candidates[cid]` is valid only for ids that came from `ids`, `matches`, `providers` or
    `reachable`; with an eager problem every id is valid from the start.
    Creation costs O(names), plus O(candidates) to find providers in an eager problem.
    `matches` costs O(candidates of the name and its providers) the first time per
    distinct requirement and O(1) after.
    """

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        sizes = package_sizes(problem.packages)
        self._offset: dict[str, int] = {}
        total = 0
        for name, size in sizes.items():
            self._offset[name] = total
            total += size
        self.candidates: list[Candidate] = [_UNBUILT] * total
        self._rank: list[int] = [0] * total
        self._ids: dict[str, list[int]] = {}
        self._provider_names = provider_names(problem.packages)
        self._providers: dict[str, list[tuple[int, str]]] = {}
        self._matches: dict[Requirement, tuple[int, ...]] = {}
        # Backends keep per-index artefacts here (libsolv's pool); shared by rebind.
        self.cache: dict[str, object] = {}
        if not isinstance(problem.packages, LazyPackages):
            for name in sizes:  # already built: every id is valid at once, as callers expect
                self.ids(name)

    def ids(self, name: str) -> list[int]:
        """Ids of `name`'s candidates, most preferred first (building them on first use;
        a lazy problem raises ProblemError here if they are invalid). [] if unknown."""
        found = self._ids.get(name)
        if found is None:
            start = self._offset.get(name)
            if start is None:
                return []
            found = []
            for position, cand in enumerate(self.problem.packages[name]):
                self.candidates[start + position] = cand
                self._rank[start + position] = position
                found.append(start + position)
            self._ids[name] = found
        return found

    def providers(self, name: str) -> list[tuple[int, str]]:
        """(id, provided version) of every candidate providing `name`, in index order."""
        found = self._providers.get(name)
        if found is None:
            found = [
                (cid, version)
                for owner in self._provider_names.get(name, ())
                for cid in self.ids(owner)
                for pname, version in self.candidates[cid].provides
                if pname == name
            ]
            self._providers[name] = found
        return found

    def provided(self) -> set[str]:
        """Every name that some candidate provides (builds nothing)."""
        return set(self._provider_names)

    def rank(self, cid: int) -> int:
        """Position of `cid` among its name's candidates (0 = most preferred)."""
        return self._rank[cid]

    def own_matches(self, req: Requirement) -> tuple[int, ...]:
        """Candidates *named* `req.name` that meet `req` (constraints use only these)."""
        return tuple(
            cid
            for cid in self.ids(req.name)
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
                for cid, version in self.providers(req.name)
                if cid not in own and req.allows(version, self.candidates[cid].variant)
            ]
            hit = own + tuple(dict.fromkeys(extra))
            self._matches[req] = hit
        return hit

    def names_of(self, cids: Iterable[int]) -> list[str]:
        return [self.candidates[c].name for c in cids]

    def reachable(
        self,
        requests: Iterable[Requirement],
        check: Callable[[], None] = lambda: None,
        excluded: Callable[[int], bool] | None = None,
    ) -> list[int]:
        """Ids of every candidate that some chain of depends from `requests` could choose.

        Only these can appear in a needed answer, so backends encode only these. With
        `excluded`, a candidate for which it is true is treated as never chosen: it is left
        out and its depends are not followed (auto's clingo step leaves out what cannot be
        in an answer cheaper than libsolv's).
        Cost: O(reachable candidates x their depends), each requirement matched once (and,
        for a lazy problem, each reached package built). `check` (a deadline's) is called
        first and every `CHECK_EVERY` requirements: on a dense index this walk covers most
        of it.
        """
        seen: set[int] = set()
        todo = list(requests)
        done_reqs: set[Requirement] = set()
        check()
        while todo:
            req = todo.pop()
            if req in done_reqs:
                continue
            done_reqs.add(req)
            if len(done_reqs) % CHECK_EVERY == 0:
                check()
            for cid in self.matches(req):
                if cid not in seen and not (excluded and excluded(cid)):
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
