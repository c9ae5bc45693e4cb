"""The recipe-to-solver adapter on a small index: variants, facts, tags, preferences, errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.index import load_index
from cmpkg.resolve import (
    FactValue,
    Preference,
    ResolveTask,
    build_problem,
    parse_request,
    resolve,
)

INDEX = load_index([Path(__file__).parent / "index"])
CPU = {"__arch=x86_64": FactValue("1", "archspec")}
CUDA = {**CPU, "__cuda": FactValue("12.2", "nvidia-smi")}
TOOLS = {"python": FactValue("3.11.7", "/usr/bin/python3")}


NO_PREFERENCE = Preference()


def solve(request: str, facts: dict[str, FactValue], preference: Preference = NO_PREFERENCE):  # type: ignore[no-untyped-def]
    return resolve(ResolveTask(INDEX, facts, TOOLS, (parse_request(request, INDEX),), preference))


def test_default_variant_on_cpu() -> None:
    result = solve("app", CPU)
    assert result.roots == ("app",)
    assert result.pins["app"].variant == (("device", "cpu"),)
    assert result.pins["rt"].version == "2.0"
    assert result.pins["rt"].variant == (("device", "cpu"),)
    assert set(result.pins) == {"app", "rt", "python", "tiny-model"}


def test_cuda_preference_picks_cuda_and_backtracks_to_a_version_the_driver_allows() -> None:
    cuda = (("device", "cuda"),)
    result = solve("app", CUDA, Preference({}, cuda, cuda))
    assert result.pins["app"].variant == cuda
    # rt 2.0 needs __cuda >=12.4; the driver has 12.2, so rt 1.0 is chosen.
    assert (result.pins["rt"].version, result.pins["rt"].variant) == ("1.0", cuda)
    assert "__cuda" in result.pins["rt"].facts


def test_cuda_request_on_cpu_target_names_the_missing_fact() -> None:
    with pytest.raises(CmpkgError) as info:
        solve("app[device=cuda]", CPU)
    assert info.value.code == "unsatisfiable"
    assert "__cuda" in "\n".join(info.value.details)
    assert "this target has no __cuda" in "\n".join(info.value.details)


def test_old_driver_explanation_names_value_and_source() -> None:
    old = {**CPU, "__cuda": FactValue("11.8", "override CMPKG_OVERRIDE_CUDA")}
    with pytest.raises(CmpkgError) as info:
        solve("rt[device=cuda]", old)
    text = "\n".join(info.value.details)
    assert "11.8" in text and "CMPKG_OVERRIDE_CUDA" in text


def test_locked_pin_is_preferred_over_newer() -> None:
    result = solve("rt", CPU, Preference({"rt": ("1.0", (("device", "cpu"),))}))
    assert result.pins["rt"].version == "1.0"


def test_cm_style_variant_tags_and_tag_queries() -> None:
    assert parse_request("app _cuda", INDEX).variants == (("device", "cuda"),)
    assert parse_request("app,bench", INDEX).name == "app"
    assert parse_request("rt>=1,<2", INDEX).name == "rt"


def test_ambiguous_tag_query_lists_candidates() -> None:
    with pytest.raises(UsageError) as info:
        parse_request("tags:model", INDEX)
    assert info.value.code == "ambiguous-request"
    assert "big-model, tiny-model" in info.value.message


def test_unknown_package_suggests_close_names() -> None:
    with pytest.raises(UsageError) as info:
        parse_request("ap", INDEX)
    assert info.value.hint is not None and "app" in info.value.hint


def test_missing_tool_is_explained() -> None:
    with pytest.raises(CmpkgError) as info:
        resolve(ResolveTask(INDEX, CPU, {}, (parse_request("rt", INDEX),)))
    assert "python was not found" in "\n".join(info.value.details)


def test_problem_is_plain_json_and_round_trips_through_solvers() -> None:
    import json

    import solvers

    document = build_problem(ResolveTask(INDEX, CPU, TOOLS, (parse_request("app", INDEX),)))
    text = json.dumps(document, sort_keys=True)
    problem = solvers.load_problem(json.loads(text))
    assert solvers.solve(problem).satisfiable
    # newest version first, default variant first within it
    assert [c["version"] for c in document["packages"]["rt"]][:2] == ["2.0", "2.0"]
    assert document["packages"]["rt"][0]["variant"] == {"device": "cpu"}


def test_order_puts_dependencies_first_and_why_explains() -> None:
    result = solve("app", CPU)
    order = result.order()
    assert order.index("python") < order.index("rt") < order.index("app")
    assert result.why("python") == [["app", "rt", "python"]]


def test_shipped_app_for_cuda_on_a_cpu_target_is_explained_briefly() -> None:
    from cmpkg.index import load_active_index

    index = load_active_index()
    facts = {"__arch=x86_64": FactValue("1", "archspec"), "__os=linux": FactValue("1", "platform")}
    with pytest.raises(CmpkgError) as info:
        request = parse_request("mlperf-resnet50[device=cuda]", index)
        resolve(ResolveTask(index, facts, TOOLS, (request,)))
    text = "\n".join(info.value.details)
    assert "mlperf-resnet50 0.1.0 [device=cuda] (16 variants) need __cuda >=12.0" in text
    assert "this target has no __cuda" in text
    assert len(text) < 600


def _refuse_subprocesses(monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a subprocess ran while resolving")

    for name in ("run", "Popen", "call", "check_call", "check_output"):
        monkeypatch.setattr(subprocess, name, refuse)


def test_resolve_takes_fake_tools_and_runs_no_subprocess(monkeypatch: pytest.MonkeyPatch) -> None:
    _refuse_subprocesses(monkeypatch)
    fake = {"python": FactValue("3.99.1", "/nowhere/python3")}
    resolution = resolve(ResolveTask(INDEX, CPU, fake, (parse_request("app", INDEX),)))
    assert resolution.pins["python"].version == "3.99.1"


def test_tools_are_probed_before_resolving_not_during(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the resolver got a lazy mapping that ran `python3 --version` (and wrote the
    detect cache) from inside the solve; now the probe runs first and resolve only reads."""
    from cmpkg import context

    gathered = context.load([Path(__file__).parent / "index"], "cpu", tmp_path, None, ["app"])
    assert set(gathered.tools) == {"python"}  # the only detect recipe `app` can reach
    _refuse_subprocesses(monkeypatch)
    resolution = resolve(gathered.task())
    assert resolution.pins["python"].version == gathered.tools["python"].version
