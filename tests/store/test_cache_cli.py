"""`cmpkg cache ...` against a store under a temporary CMPKG_HOME."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cmpkg.cli import main
from cmpkg.store import Store, entry_key


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Store:
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    store = Store()
    for name in ("alpha", "beta"):
        store.ensure(entry_key({"name": name}), _files, {"name": name, "version": "1.0"})
    return store


def _files(tmp: Path) -> dict[str, Any]:
    (tmp / "bin").mkdir()
    (tmp / "bin" / "tool").write_text("#!/bin/sh\n")
    return {}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_dir_list_and_info(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cache", "dir")[1].strip() == str(store.base)
    code, out, _ = run(capsys, "cache", "list", "--json")
    listed = json.loads(out)["entries"]
    assert code == 0 and sorted(e["name"] for e in listed) == ["alpha", "beta"]
    key = listed[0]["key"]
    code, out, _ = run(capsys, "cache", "info", key[:8], "--json")
    assert code == 0 and json.loads(out)["key"] == key
    code, out, _ = run(capsys, "cache", "list")
    assert "alpha" in out and key[:12] in out


def test_verify_reports_modified_entry(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "cache", "verify")[0] == 0
    entry = store.list()[0]
    (entry.path / "bin" / "tool").write_text("rm -rf /\n")
    code, out, err = run(capsys, "cache", "verify")
    assert code == 1 and "changed: bin/tool" in out and "entry-modified" in err
    code, out, _ = run(capsys, "cache", "verify", entry.key[:10], "--json")
    assert json.loads(out)["results"][0]["changed"] == ["bin/tool"]


def test_rm_and_gc(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    keys = [e.key for e in store.list()]
    assert run(capsys, "cache", "rm", keys[0][:12])[0] == 0
    code, out, _ = run(capsys, "cache", "gc", "--dry-run", "--json")
    assert code == 0 and json.loads(out)["removed"] == [keys[1]]
    assert store.get(keys[1]) is not None
    assert run(capsys, "cache", "gc")[0] == 0
    assert store.list() == []


def test_unknown_key_is_a_usage_error(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "cache", "info", "ffffffff")
    assert code == 2 and "no-such-entry" in err and "hint:" in err
