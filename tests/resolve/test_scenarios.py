"""Recipe-level scenarios (tests/resolve/scenarios/*.toml): recipes + request + target facts
in, pins or an explanation out, on every solver backend (like the solver conformance suite,
one level up: through cmpkg's recipe-to-problem adapter)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.index import load_index
from cmpkg.resolve import FactValue, Preference, ResolveTask, parse_request, resolve

HERE = Path(__file__).parent
INDEX = load_index([HERE / "index"])
SCENARIOS = sorted((HERE / "scenarios").glob("*.toml"))
BACKENDS = ["auto", "libsolv", "clingo", "resolvelib"]
EXACT = {"auto", "clingo"}  # the optimal backends: their pins are the documented preference


def _task(scenario: dict[str, Any], backend: str) -> ResolveTask:
    facts = {n: FactValue(str(v), "scenario") for n, v in scenario.get("facts", {}).items()}
    tools = {n: FactValue(str(v), f"/scenario/{n}") for n, v in scenario["tools"].items()}
    requests = tuple(parse_request(r, INDEX) for r in scenario["requests"])
    preference = Preference(values=tuple(sorted(scenario.get("prefer", {}).items())))
    return ResolveTask(INDEX, facts, tools, requests, preference, backend)


def test_there_are_scenarios() -> None:
    assert len(SCENARIOS) >= 5


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_scenario(path: Path, backend: str) -> None:
    import tomllib

    scenario = tomllib.loads(path.read_text())
    expected = scenario["expected"]
    task = _task(scenario, backend)
    if "unsatisfiable" in expected:
        with pytest.raises(CmpkgError) as raised:
            resolve(task)
        assert raised.value.code == "unsatisfiable"
        explanation = " ".join(raised.value.details)
        assert all(word in explanation for word in expected["unsatisfiable"]), explanation
        return
    resolution = resolve(task)
    for name in expected["pins"]:
        assert name in resolution.pins, name
    if backend in EXACT:
        got = {n: resolution.pins[n].version for n in expected["pins"]}
        assert got == expected["pins"]
        for name, variant in expected.get("variants", {}).items():
            assert dict(resolution.pins[name].variant) == variant, name
