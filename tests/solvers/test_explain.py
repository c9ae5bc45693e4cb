"""Explanations: exact text for the common cases lives in scenarios/; here: scale."""

from __future__ import annotations

import time
from typing import Any

import pytest

from solvers import load_problem, solve
from solvers.model import Requirement

from .conftest import HERE, read


def _index(names: int) -> dict[str, Any]:
    """A chain-and-fan index: p{i} depends on p{i//2} and p{i//3} (popular low names)."""
    packages: dict[str, Any] = {}
    for i in range(names):
        deps = [[f"p{j}", ">=1"] for j in {i // 2, i // 3} if j != i]
        packages[f"p{i}"] = [{"version": f"{v}.0", "depends": deps} for v in (3, 2, 1)]
    packages["lib"] = [{"version": "2"}, {"version": "1"}]
    packages["top"] = [{"version": "1.0", "depends": [["p9999", ""], ["lib", "==1"]]}]
    packages["other"] = [{"version": "1.0", "depends": [["p8000", ""], ["lib", "==2"]]}]
    return {"format": "solvers-problem/1", "packages": packages, "requests": []}


def test_explanation_on_a_10k_index_comes_within_seconds() -> None:
    problem = load_problem(_index(10_000))
    case = problem.with_requests([Requirement("top"), Requirement("other")])
    start = time.perf_counter()
    result = solve(case)
    assert time.perf_counter() - start < 10
    assert result.explanation == (
        "top 1.0 needs lib ==1; other 1.0 needs lib ==2; "
        "so top 1.0 and other 1.0 cannot both be installed; the request needs both"
    )


CONFORMANCE_TEXTS = {
    "packse/direct-incompatible-versions": (
        "the request needs a ==1.0.0 and a ==2.0.0; only one version of a can be installed"
    ),
    "pubgrub-examples/confusing-with-lots-of-holes": (
        "foo (every version) needs bar; there is no package bar; "
        "so no version of foo can be installed"
    ),
    "pubgrub-examples/linear-error-reporting": (
        "foo 1.0.0 needs bar >=2.0.0,<3.0.0; bar 2.0.0 needs baz >=3.0.0,<4.0.0; "
        "so foo 1.0.0 and baz 1.0.0 cannot both be installed; the request needs both"
    ),
    "packse/requires-package-does-not-exist": "the request needs a; there is no package a",
}


@pytest.mark.parametrize("case", sorted(CONFORMANCE_TEXTS))
def test_conformance_explanations(case: str) -> None:
    problem = load_problem(read(HERE / "conformance" / f"{case}.json"))
    assert solve(problem).explanation == CONFORMANCE_TEXTS[case]
