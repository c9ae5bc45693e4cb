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
    assert str(result.explanation) == (
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
    assert str(solve(problem).explanation) == CONFORMANCE_TEXTS[case]


def test_a_derivation_indents_each_step_under_the_one_it_explains() -> None:
    problem = load_problem(
        read(HERE / "conformance" / "pubgrub-examples/linear-error-reporting.json")
    )
    explanation = solve(problem).explanation
    assert explanation is not None
    assert explanation.lines() == [
        "foo 1.0.0 needs bar >=2.0.0,<3.0.0",
        "  bar 2.0.0 needs baz >=3.0.0,<4.0.0",
        "so foo 1.0.0 and baz 1.0.0 cannot both be installed",
        "the request needs both",
    ]
    assert [s.kind for s in explanation.steps] == ["needs", "needs", "conclusion", "conclusion"]
    assert explanation.steps[1].package == "bar"
    assert explanation.steps[1].constraint == "baz >=3.0.0,<4.0.0"


def test_a_fact_step_carries_the_value_and_its_source() -> None:
    problem = load_problem(read(HERE / "scenarios" / "hardware-too-old.json"))
    explanation = solve(problem).explanation
    assert explanation is not None
    need, fact = explanation.steps
    assert (need.kind, need.package, need.constraint) == (
        "needs",
        "onnxruntime-gpu",
        "__cuda >=12.0",
    )
    assert fact.to_json() == {
        "kind": "fact",
        "text": "this target has __cuda 11.8 (override CMPKG_OVERRIDE_CUDA)",
        "depth": 1,
        "package": "__cuda",
        "constraint": "__cuda >=12.0",
        "value": "11.8",
        "source": "override CMPKG_OVERRIDE_CUDA",
    }
