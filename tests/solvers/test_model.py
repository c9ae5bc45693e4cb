"""The problem model: validation with JSON paths, unknown keys, round trip, verify."""

from __future__ import annotations

import json
from typing import Any

import pytest

from solvers import ProblemError, Requirement, load_batch, load_problem, problem_to_json, verify

from .conftest import CONFORMANCE, read


def _problem(**extra: Any) -> dict[str, Any]:
    return {"format": "solvers-problem/1", "packages": {}, "requests": [], **extra}


def test_every_error_is_collected_with_its_path() -> None:
    raw = _problem(
        packages={
            "foo": [
                {"version": "1"},
                {"version": "x.y"},
                {"version": "2", "depends": [["b", ">>1"]]},
            ]
        },
        requests=[["foo"], "bar"],
    )
    with pytest.raises(ProblemError) as exc:
        load_problem(raw)
    assert exc.value.errors == (
        "packages.foo[1].version: invalid version 'x.y'",
        "packages.foo[2].depends[0]: invalid specifier '>>1'",
        "requests[0]: expected [name, specifier] or [name, specifier, {variant}]",
        "requests[1]: expected an array, got str",
    )


def test_unknown_keys_are_ignored() -> None:
    raw = _problem(id="x", description="d", expected={}, policy_note="p")
    raw["packages"] = {"a": [{"version": "1", "source": "s", "id": 3}]}
    assert load_problem(raw).packages["a"][0].version == "1"


def test_variant_and_note_round_trip() -> None:
    raw = _problem(
        packages={
            "t": [
                {
                    "version": "2.1",
                    "variant": {"device": "cuda"},
                    "note": "n",
                    "provides": [["v", "1"]],
                }
            ]
        },
        requests=[["t", ">=2", {"device": "cuda"}]],
        constraints=[["t", "<3"]],
        notes={"__cuda": "none"},
    )
    problem = load_problem(raw)
    assert problem.requests[0] == Requirement("t", ">=2", (("device", "cuda"),))
    assert load_problem(problem_to_json(problem)) == problem


@pytest.mark.parametrize("path", CONFORMANCE[::10], ids=lambda p: p.stem)
def test_conformance_round_trip_is_stable(path: Any) -> None:
    problem = load_problem(read(path))
    dumped = json.dumps(problem_to_json(problem), sort_keys=True)
    assert json.dumps(problem_to_json(load_problem(json.loads(dumped))), sort_keys=True) == dumped


def test_batch_shares_one_package_set() -> None:
    cases = load_batch(
        {
            "format": "solvers-batch/1",
            "packages": {"a": [{"version": "1"}]},
            "cases": [{"id": "x", "requests": [["a", ""]]}, {"id": "y", "requests": []}],
        }
    )
    assert [c.id for c in cases] == ["x", "y"]
    assert cases[0].problem.packages is cases[1].problem.packages


def test_verify_names_each_fault() -> None:
    problem = load_problem(
        _problem(
            packages={
                "a": [{"version": "1", "depends": [["b", ">=2"]], "conflicts": [["c", ""]]}],
                "b": [{"version": "1"}],
                "c": [{"version": "1"}],
            },
            requests=[["a", ""], ["d", ""]],
            constraints=[["c", ">1"]],
        )
    )
    pins = {n: problem.packages[n][0] for n in "abc"}
    assert verify(problem, pins) == [
        "request d is not met",
        "a 1 needs b >=2, not met",
        "a 1 conflicts with c, met by c 1",
        "constraint c >1 is violated by c 1",
    ]


def test_dump_is_canonical_without_sort_keys() -> None:
    problem = load_problem(read(CONFORMANCE[0]))
    dumped = problem_to_json(problem)
    assert json.dumps(dumped) == json.dumps(dumped, sort_keys=True)
