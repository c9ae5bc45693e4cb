"""`cmpkg resolve` / `cmpkg why` as a user runs them: tree, JSON, the problem file that
replays with `python -m solvers`, and explanations with the right exit code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

INDEX = Path(__file__).parent / "index"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "NO_COLOR": "1", **(env or {})}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, env=full, check=False
    )


def test_dumped_problem_replays_to_the_same_pins(tmp_path: Path) -> None:
    problem = tmp_path / "problem.json"
    shown = run(
        "-m",
        "cmpkg",
        "resolve",
        "app",
        "--index",
        str(INDEX),
        "--target",
        "cpu",
        "--json",
        "--dump-problem",
        str(problem),
    )
    assert shown.returncode == 0, shown.stderr
    packages = json.loads(shown.stdout)["packages"]
    replay = run("-m", "solvers", "solve", str(problem), "--json")
    assert replay.returncode == 0, replay.stderr
    pins = json.loads(replay.stdout)["pins"]
    for name, package in packages.items():
        assert pins[name]["version"] == package["version"]
        assert pins[name].get("variant", {}) == package["variant"]


def test_tree_and_why(tmp_path: Path) -> None:
    tree = run("-m", "cmpkg", "resolve", "app", "--index", str(INDEX), "--target", "cpu")
    assert tree.returncode == 0, tree.stderr
    assert tree.stdout.splitlines()[1].startswith("app 1.0 [device=cpu]")
    assert "└── " in tree.stdout or "├── " in tree.stdout
    why = run("-m", "cmpkg", "why", "python", "app", "--index", str(INDEX), "--target", "cpu")
    assert why.returncode == 0, why.stderr
    assert why.stdout.startswith("app 1.0 [device=cpu] -> rt 2.0 [device=cpu] -> python ")


def test_unsatisfiable_is_exit_1_with_the_fact_and_its_source() -> None:
    done = run(
        "-m",
        "cmpkg",
        "resolve",
        "rt[device=cuda]",
        "--index",
        str(INDEX),
        "--target",
        "cuda",
        env={"CMPKG_OVERRIDE_CUDA": "11.8"},
    )
    assert done.returncode == 1
    assert "__cuda 11.8 (override CMPKG_OVERRIDE_CUDA)" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_request_is_usage_error() -> None:
    done = run("-m", "cmpkg", "resolve", "app[device]", "--index", str(INDEX))
    assert done.returncode == 2
    assert "hint:" in done.stderr and "Traceback" not in done.stderr
