"""`cmpkg install` and `cmpkg run` end to end: a real venv, real wheels, a real subprocess.

Hermetic: wheels are built by the test and given to uv with --find-links --no-index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel

INDEX = Path(__file__).parents[1] / "resolve" / "index"
pytestmark = pytest.mark.slow


def cmpkg(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args], capture_output=True, text=True, env=env, check=False
    )


def install(home: Path, wheels: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """`cmpkg install app` from the test index, with the test's wheels and no remote index."""
    source = ("--find-links", str(wheels), "--no-index")
    return cmpkg(home, "install", "app", "--index", str(INDEX), "--target", "cpu", *source, *extra)


@pytest.fixture(scope="module")
def wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("wheels")
    for version in ("1.0", "2.0"):
        build_wheel(directory, "rt", version, f"VERSION = {version!r}\n")
    return directory


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, wheels: Path) -> Path:
    home = tmp_path_factory.mktemp("home")
    done = install(home, wheels)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return home


def test_install_builds_then_second_run_is_a_no_op(installed: Path, wheels: Path) -> None:
    again = install(installed, wheels, "--json")
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["built"] == 0


def test_dry_run_lists_cached_steps_and_changes_nothing(installed: Path, wheels: Path) -> None:
    done = cmpkg(
        installed, "install", "app", "--index", str(INDEX), "--target", "cpu", "--dry-run", "--json"
    )
    steps = json.loads(done.stdout)["steps"]
    assert all(s["cached"] for s in steps)
    assert {s["method"] for s in steps} >= {"venv", "python", "detect"}


def test_run_uses_the_environment(installed: Path) -> None:
    done = cmpkg(installed, "run", "app")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hi"


def test_env_exports_the_venv(installed: Path) -> None:
    done = cmpkg(installed, "env", "app", "--export", "json")
    variables = json.loads(done.stdout)
    venv = Path(variables["VIRTUAL_ENV"])
    check = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import rt; print(rt.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert check.stdout.strip() == "2.0"


def test_venv_records_wheel_hashes(installed: Path, wheels: Path) -> None:
    record = json.loads((installed / "envs" / "app.json").read_text())
    venv_entry = Path(record["packages"]["python-env"]["path"])
    metadata = json.loads((venv_entry / "cmpkg-entry.json").read_text())
    (rt,) = metadata["build"]["installed"]
    assert (rt["name"], rt["version"]) == ("rt", "2.0")
    import hashlib

    assert (
        rt["sha256"]
        == hashlib.sha256((wheels / "rt-2.0-py3-none-any.whl").read_bytes()).hexdigest()
    )


def test_unknown_env_is_a_clear_error(installed: Path) -> None:
    done = cmpkg(installed, "run", "nope")
    assert done.returncode == 2
    assert "hint:" in done.stderr and "Traceback" not in done.stderr


def test_an_entry_edited_after_install_is_not_reused(installed: Path, wheels: Path) -> None:
    import os

    record = json.loads((installed / "envs" / "app.json").read_text())
    venv = Path(record["packages"]["python-env"]["path"])
    target = next((venv / "venv").rglob("rt.py"))
    original, info = target.read_bytes(), target.stat()
    try:
        target.write_bytes(original.replace(b"2.0", b"6.6"))
        again = install(installed, wheels)
        assert again.returncode == 1
        assert "changed after it was installed" in again.stderr and "rt.py" in again.stderr
        verify = cmpkg(installed, "cache", "verify")
        assert verify.returncode != 0 and "rt.py" in verify.stdout + verify.stderr
    finally:
        target.write_bytes(original)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))


def test_env_rm_forgets_the_environment_and_lets_gc_collect(installed: Path, wheels: Path) -> None:
    assert install(installed, wheels, "--env", "other").returncode == 0
    assert (installed / "store-v1" / "roots" / "env-other.json").exists()
    assert "other" in cmpkg(installed, "env", "list").stdout.split()
    assert cmpkg(installed, "env", "rm", "other").returncode == 0
    assert "other" not in cmpkg(installed, "env", "list").stdout.split()
    assert not (installed / "store-v1" / "roots" / "env-other.json").exists()
    # `app` still references every entry: gc keeps them all
    assert cmpkg(installed, "run", "app").returncode == 0


def test_shell_runs_the_users_shell_inside_the_environment(installed: Path) -> None:
    env = {**os.environ, "CMPKG_HOME": str(installed), "SHELL": "/bin/sh"}
    done = subprocess.run(
        [sys.executable, "-m", "cmpkg", "shell", "app"],
        input='echo "$CMPKG_ENV"; python -c "import rt; print(rt.VERSION)"\n',
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["app", "2.0"]
