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
        meta = {"package": name, "version": "1.0", "variant": {"device": "cpu"}, "kind": "tool"}
        store.ensure(entry_key({"name": name}), _files, meta)
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


def test_list_names_every_entry_with_its_users(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha, beta = (entry_key({"name": n}) for n in ("alpha", "beta"))
    store.add_root("env-app", [alpha])
    store.add_root("env-other", [alpha, beta])
    code, out, _ = run(capsys, "cache", "list", "--json")
    listed = {e["name"]: e for e in json.loads(out)["entries"]}
    assert code == 0 and sorted(listed) == ["alpha", "beta"]
    assert listed["alpha"]["used_by"] == ["app", "other"]
    assert listed["beta"]["used_by"] == ["other"]
    assert listed["alpha"]["variant"] == {"device": "cpu"}
    assert listed["alpha"]["version"] == "1.0" and listed["alpha"]["size"] > 0
    assert listed["alpha"]["last_used"] >= listed["alpha"]["created"]
    code, out, _ = run(capsys, "cache", "list")
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["KEY", "NAME", "VERSION", "VARIANT"]
    row = next(line for line in lines if "alpha" in line)
    assert "1.0" in row and "device=cpu" in row and "app, other" in row
    code, out, _ = run(capsys, "cache", "info", alpha[:10])
    assert code == 0 and "used_by:" in out and "app, other" in out


def test_last_use_is_recorded_outside_the_entry(store: Store) -> None:
    import os

    entry = store.list()[0]
    stamp = store.base / "used" / entry.key
    with store.hold(entry.key):
        pass
    os.utime(stamp, (2_000_000_000, 2_000_000_000))  # 2033: later than any `created`
    assert store.last_used(entry).startswith("2033-05-18")
    assert store.check(entry).ok


def test_rm_of_an_entry_an_environment_uses_is_refused(
    store: Store, capsys: pytest.CaptureFixture[str]
) -> None:
    alpha = entry_key({"name": "alpha"})
    store.add_root("env-app", [alpha])
    code, _, err = run(capsys, "cache", "rm", alpha[:12])
    assert code == 1 and "entry-referenced" in err and "environment app" in err
    assert "hint:" in err and "--force" in err
    assert store.get(alpha) is not None
    code, _, err = run(capsys, "cache", "rm", "--force", alpha[:12])
    assert code == 0 and "environment app is now broken" in err
    assert store.get(alpha) is None
    assert store.root_records()["env-app"].broken == (alpha,)


def test_gc_sweeps_the_compiled_index_nothing_can_ask_for(
    store: Store, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An index directory that is gone leaves its compiled stack behind until `cache gc`."""
    from cmpkg.index import load_index
    from tests.index.recipes import recipe_text

    gone = tmp_path / "gone"
    gone.mkdir()
    (gone / "foo.toml").write_text(recipe_text())
    cache = tmp_path / "home" / "index-v1"
    load_index([gone], cache)
    stack = sorted(cache.glob("*.*"))
    assert [p.suffix for p in stack] == [".detail", ".scan", ".table"]
    (gone / "foo.toml").unlink()
    gone.rmdir()
    code, out, _ = run(capsys, "cache", "gc", "--dry-run", "--json")
    assert code == 0 and sorted(json.loads(out)["swept"]) == [str(p) for p in stack]
    assert all(p.exists() for p in stack)
    code, _, err = run(capsys, "cache", "gc")
    assert code == 0 and "3 leftovers" in err
    assert not any(p.exists() for p in stack)
