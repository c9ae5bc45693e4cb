"""A project of two apps: one environment (one venv, as its lock has one environment key),
and `cmpkg run APP` runs each app in it with that app's own variables.

Before, `install --frozen` of a two-app lock recorded one environment named after the first
request with only the first app's command, so `cmpkg run <second app>` said "no
environment named ...". Hermetic: real wheels given with --find-links --no-index.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel
from tests.lock.test_environment_keys import PYTHON
from tests.support.cli import run_cmpkg

pytestmark = pytest.mark.slow

RT = """name = "rt"
version = "1.0"
kind = "library"
tags = ["rt"]
summary = "a runtime"
license = "MIT"
homepage = "https://example.org/rt"
depends = ["python >=3.10"]

[provide]
method = "python"
requirements = ["rt"]
"""

# Both apps export BENCH_SETTING (as the MLPerf apps all export CMPKG_MLPERF_BACKEND): in a
# shared environment each must see its own value.
APP = """name = "{name}"
version = "1.0"
kind = "app"
tags = ["app"]
summary = "an app"
license = "MIT"
homepage = "https://example.org/app"
depends = ["python >=3.10", "rt"]
run = ["python", "-c", "import os, rt; print(os.environ['BENCH_SETTING'], rt.VERSION)"]

[env]
BENCH_SETTING = "{setting}"
"""


def cmpkg(project: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cmpkg(project, home, *args)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """A two-app project, locked and installed with `--frozen`: (project, home, wheels)."""
    root = tmp_path_factory.mktemp("two-apps")
    wheels = root / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "rt", "2.0", "VERSION = '2.0'\n")
    index = root / "index"
    recipes = {
        "python": PYTHON,
        "rt": RT,
        "bench-a": APP.format(name="bench-a", setting="a"),
        "bench-b": APP.format(name="bench-b", setting="b"),
    }
    for name, text in recipes.items():
        (index / name).mkdir(parents=True)
        (index / name / "recipe.toml").write_text(text)
    project = root / "project"
    project.mkdir()
    (project / "cmpkg.toml").write_text(
        "[project]\nname = 'two'\nrequests = ['bench-a', 'bench-b']\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(index))}]\n"
    )
    home = root / "home"
    source = ("--find-links", str(wheels), "--no-index")
    locked = cmpkg(project, home, "lock", *source)
    assert locked.returncode == 0, locked.stderr
    done = cmpkg(project, home, "install", "--frozen", *source)
    assert done.returncode == 0, done.stderr
    assert "run its apps with `cmpkg run bench-a`, `cmpkg run bench-b`" in done.stderr
    return project, home, wheels


def test_each_app_of_a_frozen_two_app_lock_runs_with_its_own_variables(
    installed: tuple[Path, Path, Path],
) -> None:
    project, home, _ = installed
    for app, setting in (("bench-b", "b"), ("bench-a", "a"), ("bench_B", "b")):
        ran = cmpkg(project, home, "run", app)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.split() == [setting, "2.0"], (app, ran.stdout)
    listed = json.loads(cmpkg(project, home, "env", "list", "--json").stdout)
    assert [(e["name"], e["apps"]) for e in listed] == [("bench-a", ["bench-a", "bench-b"])]


def test_a_no_op_install_names_both_apps_again(installed: tuple[Path, Path, Path]) -> None:
    project, home, wheels = installed
    source = ("--find-links", str(wheels), "--no-index")
    again = cmpkg(project, home, "install", "--frozen", *source)
    assert again.returncode == 0, again.stderr
    assert "already installed bench-a" in again.stderr
    assert "run its apps with `cmpkg run bench-a`, `cmpkg run bench-b`" in again.stderr


def test_an_app_in_no_environment_names_the_environments_that_exist(
    installed: tuple[Path, Path, Path],
) -> None:
    project, home, _ = installed
    ran = cmpkg(project, home, "run", "bench-c")
    assert ran.returncode == 2, ran.stderr
    assert "[no-such-env]" in ran.stderr
    assert "bench-a (apps: bench-a, bench-b)" in ran.stderr
    assert ".context" not in ran.stderr  # a run context is no environment
    assert "hint: run `cmpkg install bench-c`" in ran.stderr
    assert "Traceback" not in ran.stderr
    wrong = cmpkg(project, home, "run", "--env", "bench-a", "bench-c")
    assert wrong.returncode == 2 and "[no-such-app]" in wrong.stderr, wrong.stderr


def test_an_app_in_two_environments_is_ambiguous_until_one_is_named(
    installed: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    project, home, wheels = installed
    source = ("--find-links", str(wheels), "--no-index")
    other = cmpkg(project, home, "install", "--frozen", "--env", "other", *source)
    assert other.returncode == 0, other.stderr
    try:
        ran = cmpkg(project, home, "run", "bench-b")
        assert ran.returncode == 2 and "[ambiguous-app]" in ran.stderr, ran.stderr
        assert "bench-a (apps: bench-a, bench-b); other (apps:" in ran.stderr
        named = cmpkg(project, home, "run", "--env", "other", "bench-b", "--", "ignored")
        assert named.returncode == 0, named.stderr
        assert named.stdout.split() == ["b", "2.0"]
        first = cmpkg(project, home, "run", "other")  # an environment's name: its first app
        assert first.returncode == 0, first.stderr
        assert first.stdout.split() == ["a", "2.0"]
    finally:
        assert cmpkg(project, home, "env", "rm", "other").returncode == 0
