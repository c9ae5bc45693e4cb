"""Every command that prints data takes `--json` and prints one JSON document on stdout
(nothing else there), in the schema docs/cli.md documents."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cmpkg.cli import main

INDEX = Path(__file__).parents[1] / "resolve" / "index"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project over the small test index, requesting a model (no Python wheels, so
    locking and mirroring it need no network)."""
    shutil.copytree(INDEX, tmp_path / "recipes")
    (tmp_path / "cmpkg.toml").write_text(
        '[project]\nname = "demo"\nrequests = []\ntargets = ["cpu"]\nindex = ["recipes"]\n'
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    return tmp_path


def _json(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> Any:
    capsys.readouterr()
    assert main(list(argv)) == code
    return json.loads(capsys.readouterr().out)


def test_every_data_command_prints_one_json_document(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = ("--index", str(project / "recipes"))
    checked = _json(capsys, "index", "check", "--json", *index)
    assert checked["ok"] is True and checked["recipes"] > checked["packages"] > 0
    assert _json(capsys, "search", "model", "--json", *index)
    assert _json(capsys, "show", "tiny-model", "--json", *index)["name"] == "tiny-model"
    assert _json(capsys, "target", "list", "--json")
    assert _json(capsys, "target", "show", "--json", "--target", "cpu")["name"] == "cpu"
    resolved = _json(capsys, "resolve", "tiny-model", "--json", *index)
    assert set(resolved["packages"]) == {"tiny-model"}
    assert _json(capsys, "install", "--dry-run", "tiny-model", "--json", *index)["steps"]

    added = _json(capsys, "add", "tiny-model", "big-model", "--json")
    assert added == {
        "manifest": str(project / "cmpkg.toml"),
        "added": ["tiny-model", "big-model"],
        "replaced": [],
        "removed": [],
    }
    replaced = _json(capsys, "add", "tiny-model>=3", "--json")
    assert replaced["replaced"] == [{"old": "tiny-model", "new": "tiny-model>=3"}]
    assert _json(capsys, "remove", "big-model", "--json")["removed"] == ["big-model"]

    locked = _json(capsys, "lock", "--json")
    assert locked == {"lock": str(project / "cmpkg.lock"), "changed": True}
    assert _json(capsys, "lock", "--check", "--json") == {"fresh": True, "reasons": []}
    assert _json(capsys, "mirror", "create", str(project / "m"), "--json")["files"] > 0
    assert _json(capsys, "mirror", "verify", str(project / "m"), "--json")["ok"] is True

    assert _json(capsys, "env", "list", "--json") == []
    assert _json(capsys, "cache", "list", "--json") == {"entries": []}
    assert "removed" in _json(capsys, "cache", "gc", "--json", "--dry-run")


def test_a_failing_json_command_prints_the_error_as_json_too(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    index = ("--index", str(project / "recipes"))
    error = _json(
        capsys, "resolve", "app[device=cuda]", "--json", "--target", "cpu", *index, code=1
    )
    assert error["error"]["code"] == "unsatisfiable"
    steps = error["error"]["explanation"]
    assert {"kind", "text", "depth"} <= set(steps[0])
    assert any(s["kind"] == "fact" and s["package"] == "__cuda" for s in steps)
    bad = _json(capsys, "resolve", "app[device=tpu]", "--json", *index, code=2)
    assert bad["error"]["code"] == "unknown-variant-value"
    assert bad["error"]["values"] == ["cpu", "cuda"]


def test_a_stale_lock_check_has_a_code_and_a_hint(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["add", "tiny-model"]) == 0
    assert main(["lock"]) == 0
    assert main(["add", "big-model"]) == 0
    capsys.readouterr()
    assert main(["lock", "--check"]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == "error: cmpkg.lock is out of date [stale-lock]"
    assert lines[-1].startswith("hint: run `cmpkg lock`")
    assert _json(capsys, "lock", "--check", "--json", code=1)["fresh"] is False


def test_counts_read_as_english(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    index = ("--index", str(project / "recipes"))
    assert main(["install", "--dry-run", "tiny-model", *index]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 package: 0 cached, 1 to do"
    assert main(["install", "--dry-run", "tiny-model", "big-model", *index]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "2 packages: 0 cached, 2 to do"
