"""The plan is pure: keys, cached steps and waves of independent work, without disk."""

from __future__ import annotations

from pathlib import Path

from cmpkg.index import load_index
from cmpkg.lock.model import LockedWheel
from cmpkg.plan import PYENV, Plan, PlanSources, make_plan, tool_env_name
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


KINDS = {
    "tool.toml": 'name = "tool"\nkind = "tool"\n[provide]\nmethod = "detect"\n'
    'executables = ["tool"]\nrange = ">=1"\n',
    "blob.toml": 'name = "blob"\nversion = "1"\nkind = "model"\n[provide]\nmethod = "download"\n'
    '[[sources]]\nurl = "https://example.org/blob.bin"\nsha256 = "' + "a" * 64 + '"\nsize = 3\n'
    'verified = "a test recipe: nothing is downloaded"\n',
    "data.toml": 'name = "data"\nversion = "1"\nkind = "dataset"\n[provide]\nmethod = "user-path"\n'
    'must-contain = ["x"]\n',
    "np.toml": 'name = "np"\nversion = "1"\nkind = "library"\ndepends = ["python"]\n'
    '[provide]\nmethod = "python"\nrequirements = ["np==1"]\n',
    "made.toml": 'name = "made"\nversion = "1"\nkind = "dataset"\ndepends = ["np", "python"]\n'
    '[provide]\nmethod = "generate"\nscript = "gen.py"\n',
    "bare.toml": 'name = "bare"\nversion = "1"\nkind = "dataset"\ndepends = ["python"]\n'
    '[provide]\nmethod = "generate"\nscript = "gen.py"\n',
    "all.toml": 'name = "all"\nversion = "1"\nkind = "app"\nrun = ["true"]\n'
    'depends = ["tool", "blob", "data", "made", "bare"]\n',
}
COMMON = 'tags = ["t"]\nsummary = "s"\nlicense = "MIT"\nhomepage = "https://example.org"\n'


def _every_kind(tmp_path: Path, sources: PlanSources) -> Plan:
    from cmpkg.index import load_active_index

    index_dir = tmp_path / "index"
    index_dir.mkdir(exist_ok=True)
    for name, text in KINDS.items():
        head, _, rest = text.partition("\n")
        (index_dir / name).write_text(head + "\n" + COMMON + rest)
    (index_dir / "gen.py").write_text("")
    (index_dir / "python.toml").write_text(
        (Path(__file__).parents[1] / "resolve" / "index" / "libs" / "python.toml").read_text()
    )
    index = load_active_index([index_dir])
    tools = {"python": TOOLS["python"], "tool": FactValue("2.0", "/opt/tool")}
    task = ResolveTask(index, CPU, tools, (parse_request("all", index),))
    return make_plan(resolve(task), lambda _k: False, sources)


def test_every_step_kind_carries_what_its_execution_needs(tmp_path: Path) -> None:
    sources = PlanSources(
        interpreter="/usr/bin/python3",
        tools={"python": TOOLS["python"], "tool": FactValue("2.0", "/opt/tool")},
        user_paths={"data": "/srv/data"},
        mirror_urls={"blob.bin": ("file:///mirror/artifacts/blob.bin",)},
    )
    plan = _every_kind(tmp_path, sources)
    methods = {s.name: s.method for s in plan.steps}
    assert methods == {
        PYENV: "venv",
        tool_env_name("made"): "venv",
        "python": "detect",
        "tool": "detect",
        "blob": "download",
        "data": "user-path",
        "np": "python",
        "made": "generate",
        "bare": "generate",
        "all": "meta",
    }
    assert plan.step("tool").found == FactValue("2.0", "/opt/tool")
    assert plan.step("blob").downloads[0].urls == (
        "file:///mirror/artifacts/blob.bin",
        "https://example.org/blob.bin",
    )
    assert plan.step("data").user_path == "/srv/data"
    made, bare = plan.step("made"), plan.step("bare")
    assert made.runs_in == tool_env_name("made") and tool_env_name("made") in made.needs
    assert plan.step(tool_env_name("made")).env.requirements == ("np==1",)  # type: ignore[union-attr]
    assert bare.runs_in is None and bare.interpreter == "/usr/bin/python3"
    env = plan.step(PYENV).env
    assert env is not None and env.interpreter == "/usr/bin/python3" and env.wheels == ()


def test_the_environment_key_hashes_the_locked_wheels(tmp_path: Path) -> None:
    one = LockedWheel("np", "1", "https://example.org/np-1.whl", "1" * 64)
    other = LockedWheel("np", "1", "https://example.org/np-1.whl", "2" * 64)
    plans = [
        _every_kind(tmp_path, PlanSources(wheels={PYENV: (w,)}, platform=("linux",)))
        for w in (one, other, one)
    ]
    keys = [p.keys() for p in plans]
    assert keys[0][PYENV] != keys[1][PYENV] and keys[0] == keys[2]
    # only the environment's key moves: the python package and the data keep theirs
    assert {n: k for n, k in keys[0].items() if n != PYENV} == {
        n: k for n, k in keys[1].items() if n != PYENV
    }


CYCLE_A = """name = "a"
version = "1"
kind = "tool"
tags = ["a"]
summary = "s"
license = "MIT"
homepage = "https://example.org"
depends = [{ name = "b", when = { mode = "loop" } }]

[variants.mode]
default = "loop"

[variants.mode.loop]

[variants.mode.plain]
"""
CYCLE_B = CYCLE_A.split("depends")[0].replace('"a"', '"b"') + 'depends = ["a"]\n'


def test_a_cycle_closed_by_a_when_dependency_is_reported_with_its_path(tmp_path: Path) -> None:
    import pytest

    from cmpkg.errors import UsageError

    (tmp_path / "a.toml").write_text(CYCLE_A)
    (tmp_path / "b.toml").write_text(CYCLE_B)
    index = load_index([tmp_path])  # the index accepts it: the cycle needs mode=loop
    plain = resolve(ResolveTask(index, CPU, TOOLS, (parse_request("a[mode=plain]", index),)))
    assert [s.name for s in make_plan(plain, lambda _k: False).steps] == ["a"]
    looped = resolve(ResolveTask(index, CPU, TOOLS, (parse_request("a", index),)))
    with pytest.raises(UsageError) as caught:  # was a RecursionError
        make_plan(looped, lambda _k: False)
    assert caught.value.code == "dependency-cycle"
    assert "a 1 [mode=loop] -> b 1 -> a 1 [mode=loop]" in caught.value.message
    assert str(tmp_path / "a.toml") in caught.value.message
