"""The plan is pure: keys, cached steps and waves of independent work, without disk."""

from __future__ import annotations

from pathlib import Path

from cmpkg.index import load_index
from cmpkg.plan import PYENV, make_plan
from cmpkg.resolve import FactValue, ResolveTask, parse_request, resolve

INDEX = load_index([Path(__file__).parents[1] / "resolve" / "index"])
CPU = {"__arch=x86_64": FactValue("1", "archspec")}
TOOLS = {"python": FactValue("3.11.7", "/usr/bin/python3")}


def _plan(present: set[str] | None = None):  # type: ignore[no-untyped-def]
    resolution = resolve(ResolveTask(INDEX, CPU, TOOLS, (parse_request("app", INDEX),)))
    return make_plan(resolution, lambda key: key in (present or set()))


def test_waves_put_every_step_after_what_it_needs() -> None:
    plan = _plan()
    seen: set[str] = set()
    for wave in plan.waves():
        assert all(set(step.needs) <= seen for step in wave)
        seen |= {step.name for step in wave}
    assert seen == {s.name for s in plan.steps}
    assert [s.name for s in plan.waves()[0]] == [PYENV, "python", "tiny-model"]


def test_keys_are_stable_and_present_entries_are_cached() -> None:
    first = _plan()
    assert first.keys() == _plan().keys()
    assert not any(s.cached for s in first.steps)
    again = _plan(set(first.keys().values()))
    assert all(s.cached for s in again.steps) and again.todo == ()


def test_two_variants_never_share_a_key() -> None:
    cpu = resolve(ResolveTask(INDEX, CPU, TOOLS, (parse_request("rt[device=cpu]", INDEX),)))
    gpu_facts = {**CPU, "__cuda": FactValue("12.8", "nvidia-smi")}
    gpu = resolve(ResolveTask(INDEX, gpu_facts, TOOLS, (parse_request("rt[device=cuda]", INDEX),)))
    assert (
        make_plan(cpu, lambda _k: False).keys()["rt"]
        != make_plan(gpu, lambda _k: False).keys()["rt"]
    )
