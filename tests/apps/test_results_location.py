"""Where app runs write results: the project's results/ or CMPKG_HOME/results, never the
current directory (which may be cmpkg's own checkout), and `cmpkg init` ignores results/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg import envs
from cmpkg.project import MANIFEST, ignore_results, results_root


def test_results_go_to_the_project_when_inside_one_else_to_the_home(tmp_path: Path) -> None:
    project, home = tmp_path / "proj", tmp_path / "home"
    (project / "sub").mkdir(parents=True)
    (project / MANIFEST).write_text('[project]\nname = "p"\n')
    assert results_root(project / "sub", home) == project / "results"
    assert results_root(tmp_path, home) == home / "results"


def test_ignoring_results_keeps_the_existing_gitignore_and_is_idempotent(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("*.pyc")
    ignore_results(tmp_path)
    ignore_results(tmp_path)
    assert (tmp_path / ".gitignore").read_text() == "*.pyc\nresults/\n"


def _cmpkg(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args],
        cwd=cwd,
        env={"CMPKG_HOME": str(home), "PATH": "/usr/bin:/bin", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_init_writes_a_gitignore_listing_results(tmp_path: Path) -> None:
    proc = _cmpkg(tmp_path, tmp_path / "home", "init")
    assert proc.returncode == 0, proc.stderr
    assert "results/" in (tmp_path / ".gitignore").read_text().splitlines()


@pytest.mark.parametrize("in_project", [True, False])
def test_run_tells_the_app_where_results_go(tmp_path: Path, in_project: bool) -> None:
    home, cwd = tmp_path / "home", tmp_path / "work"
    cwd.mkdir()
    if in_project:
        (cwd / MANIFEST).write_text('[project]\nname = "p"\n')
    code = "import os, json; print(json.dumps(os.environ.get('CMPKG_RESULTS_DIR')))"
    record = envs.EnvRecord("probe-app", [], "cpu", {}, {}, run=[sys.executable, "-c", code])
    envs.save(home, record)
    proc = _cmpkg(cwd, home, "run", "probe-app")
    assert proc.returncode == 0, proc.stderr
    expected = (cwd if in_project else home) / "results"
    assert json.loads(proc.stdout) == str(expected)


def test_a_run_writes_its_record_and_the_database_takes_it_in_on_the_next_read(
    tmp_path: Path,
) -> None:
    """`cmpkg run` writes only its own record file (no sqlite3 on the run path); the next
    `cmpkg results` command merges it, and an app's exit code is the run's."""
    home, cwd = tmp_path / "home", tmp_path / "work"
    cwd.mkdir()
    code = "import sys; print('ran'); sys.exit(3)"
    envs.save(
        home, envs.EnvRecord("probe-app", [], "cpu", {}, {}, run=[sys.executable, "-c", code])
    )
    proc = _cmpkg(cwd, home, "run", "probe-app")
    assert proc.returncode == 3 and proc.stdout == "ran\n", proc.stderr
    results = home / "results"
    assert [p.suffix for p in (results / "records").iterdir()] == [".json"]
    assert not (results / "results.db").exists()  # not merged by the run
    listed = _cmpkg(cwd, home, "results", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["env"], row["status"], row["exit_code"]) == ("probe-app", "failed", 3)
    assert (results / "results.db").exists()
