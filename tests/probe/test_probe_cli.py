"""`cmpkg target show` and `cmpkg target list`, in-process and as the real command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.cli import main

ROOT = Path(__file__).resolve().parents[2]


def test_show_profile_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["target", "show", "--target", "h100-cuda12", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["facts"]["__cuda"]["version"] == "12.8"
    assert data["facts"]["__cuda"]["source"] == "profile h100-cuda12"


def test_show_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["target", "show", "--target", "a100-cuda12:cuda=12.4"]) == 0
    out = capsys.readouterr().out
    assert "__cuda_arch" in out and "8.0" in out
    assert "--target a100-cuda12:cuda=12.4" in out
    assert "zen2 also runs code for:" in out


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["target", "list", "--json"]) == 0
    names = [t["name"] for t in json.loads(capsys.readouterr().out)]
    assert names[:3] == ["host", "cpu", "cuda"] and "grace-aarch64" in names
    assert main(["target", "list"]) == 0
    assert "h200-cuda13" in capsys.readouterr().out


def test_unknown_target_exits_2_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["target", "show", "--target", "b200"]) == 2
    err = capsys.readouterr().err
    assert "error: unknown target 'b200' [unknown-target]" in err
    assert "hint: known targets: host, cpu, cuda, a100-cuda12" in err


def test_bad_profile_file_exits_2_with_file_key_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('python = "3.12"\n[facts]\nos = "linux"\narch = "x86_64"\ncuda = "x"\n')
    assert main(["target", "show", "--target", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: facts.cuda: expected a CUDA driver API version" in err
    assert f"{bad}: platform: required" in err


def test_bad_override_exits_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CMPKG_OVERRIDE_CUDA", "cuda12")
    assert main(["target", "show"]) == 2
    assert "CMPKG_OVERRIDE_CUDA='cuda12'" in capsys.readouterr().err


def test_real_command_with_cuda_disabled() -> None:
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, "CMPKG_OVERRIDE_CUDA": "", "PYTHONPATH": path}
    done = subprocess.run(
        [sys.executable, "-m", "cmpkg", "target", "show", "--json"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=ROOT,
    )
    data = json.loads(done.stdout)
    assert "__cuda" not in data["facts"]
    assert {s["status"] for s in data["sources"]} == {"skipped"}
