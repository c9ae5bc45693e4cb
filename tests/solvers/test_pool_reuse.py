"""libsolv's pool is kept across the requests of one package set, grown by what each request
newly reaches, and an encoding that the deadline interrupts is finished by the next request.

The index is generated (deterministic): popular names that many others depend on, some
edges to any name (so a requirement's matches lie before and after its candidate in the
encoding order), upper bounds so some answers need older versions, and provides.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from solvers import Requirement, SolveTimeoutError, load_problem, solve
from solvers.backends import Deadline
from solvers.backends import libsolv_backend as lb
from solvers.catalog import Catalog


def index(names: int = 120, seed: int = 5) -> dict[str, Any]:
    rng = random.Random(seed)
    packages: dict[str, list[dict[str, Any]]] = {}
    for i in range(names):
        cands = []
        for v in range(3, 0, -1):
            deps = []
            for _ in range(rng.randint(0, 3) if i else 0):
                # Mostly to popular earlier names, some to any: ids in both directions.
                target = int(i * rng.random() ** 2) if rng.random() < 0.8 else rng.randrange(names)
                spec = rng.choice(["", f">={rng.randint(1, 3)}", f"<={rng.randint(1, 3)}"])
                deps.append([f"p{target}", spec])
            cand: dict[str, Any] = {"version": f"{v}.0", "depends": deps}
            if i % 17 == 5:
                cand["provides"] = [[f"virtual{i % 3}", f"{v}.0"]]
            cands.append(cand)
        packages[f"p{i}"] = cands
    return {"format": "solvers-problem/1", "packages": packages, "requests": []}


class Interrupting(Deadline):
    """A deadline that passes at its `after`-th check: interrupts encoding mid-way."""

    def __init__(self, after: int) -> None:
        super().__init__(None)
        self.after = after

    def check(self) -> None:
        self.after -= 1
        if self.after < 0:
            raise SolveTimeoutError("the time bound ran out")


REQUESTS = [[Requirement("p119")], [Requirement("p64")], [Requirement("virtual2")]]
REQUESTS += [[Requirement("p90", ">=2"), Requirement("p30")], [Requirement("p101", "<=1")]]


def fresh(problem: Any, requests: list[Requirement]) -> Any:
    return solve(problem.with_requests(requests), "libsolv")


def test_one_pool_grows_and_answers_as_fresh_pools_do() -> None:
    problem = load_problem(index())
    catalog = Catalog(problem)
    sizes = []
    for requests in REQUESTS:
        shared = solve(problem.with_requests(requests), "libsolv", catalog=catalog)
        assert shared == fresh(problem, requests)
        sizes.append(len(catalog.cache["libsolv"].included))  # type: ignore[attr-defined]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1] < len(catalog.candidates)


@pytest.mark.parametrize("after", [0, 1, 2])
def test_an_interrupted_encoding_is_finished_by_the_next_request(
    after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    problem = load_problem(index())
    expected = [fresh(problem, requests) for requests in REQUESTS]  # one chunk each
    monkeypatch.setattr(lb, "CHECK_EVERY", 16)  # many chunks on a small index
    catalog = Catalog(problem)
    first = problem.with_requests(REQUESTS[0])
    with pytest.raises(SolveTimeoutError):
        lb.LibsolvBackend().solve(catalog.rebind(first), Interrupting(after))
    for requests, want in zip(REQUESTS, expected, strict=True):
        assert solve(problem.with_requests(requests), "libsolv", catalog=catalog) == want
    assert not catalog.cache["libsolv"]._pending  # type: ignore[attr-defined]


def test_auto_never_encodes_past_an_expired_bound() -> None:
    problem = load_problem(index()).with_requests(REQUESTS[0])
    with pytest.raises(SolveTimeoutError):
        solve(problem, "auto", timeout=-1.0)


def test_a_new_requirement_reaches_candidates_already_in_the_pool() -> None:
    """`b` brings the requirement `c >=2` after `a` put every `c` in the pool."""
    problem = load_problem(
        {
            "format": "solvers-problem/1",
            "packages": {
                "a": [{"version": "1", "depends": [["c", ""]]}],
                "b": [{"version": "1", "depends": [["c", ">=2"], ["d", ""]]}],
                "c": [{"version": "1"}, {"version": "2"}, {"version": "3"}],
                "d": [{"version": "1", "depends": [["c", "<3"]]}],
            },
        }
    )
    catalog = Catalog(problem)
    solve(problem.with_requests([Requirement("a")]), "libsolv", catalog=catalog)
    result = solve(problem.with_requests([Requirement("b")]), "libsolv", catalog=catalog)
    assert {n: c.version for n, c in result.pins.items()} == {"b": "1", "c": "2", "d": "1"}
