"""The resolution memo answers only when every input is unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

import cmpkg.resolution_cache as memo
from cmpkg.index import load_index
from cmpkg.resolve import FactValue, ResolveTask, parse_request

INDEX = load_index([Path(__file__).parent / "index"])
CPU = {"__arch=x86_64": FactValue("1", "archspec")}
TOOLS = {"python": FactValue("3.11.7", "/usr/bin/python3")}


def _solve(home: Path, tools: dict[str, FactValue], facts: dict[str, FactValue] = CPU):  # type: ignore[no-untyped-def]
    requests = (parse_request("app", INDEX),)
    return memo.cached_resolve(home, ResolveTask(INDEX, facts, tools, requests))


def test_second_call_is_answered_without_solving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _solve(tmp_path, TOOLS)

    def no_solving(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("solved again")

    monkeypatch.setattr(memo, "resolve", no_solving)
    again = _solve(tmp_path, TOOLS)
    assert {n: (p.version, p.variant, p.needs) for n, p in again.pins.items()} == {
        n: (p.version, p.variant, p.needs) for n, p in first.pins.items()
    }
    assert again.roots == first.roots


def test_a_changed_tool_or_fact_solves_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _solve(tmp_path, TOOLS)
    calls = []
    real = memo.resolve

    def counting(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(memo, "resolve", counting)
    upgraded = _solve(tmp_path, {"python": FactValue("3.12.1", "/usr/bin/python3")})
    assert upgraded.pins["python"].version == "3.12.1" and len(calls) == 1
    _solve(tmp_path, TOOLS, {**CPU, "__cuda": FactValue("12.2", "nvidia-smi")})
    assert len(calls) == 2


def test_a_damaged_entry_is_ignored(tmp_path: Path) -> None:
    _solve(tmp_path, TOOLS)
    for entry in (tmp_path / memo.DIRECTORY).iterdir():
        entry.write_text("{not json")
    assert _solve(tmp_path, TOOLS).pins["rt"].version == "2.0"
