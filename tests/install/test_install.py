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


def _venv_of(home: Path) -> Path:
    record = json.loads((home / "envs" / "app.json").read_text())
    return Path(record["packages"]["python-env"]["path"])


def test_a_same_size_edit_with_the_mtime_put_back_is_not_reused(
    installed: Path, wheels: Path
) -> None:
    target = next((_venv_of(installed) / "venv").rglob("rt.py"))
    original, info = target.read_bytes(), target.stat()
    target.chmod(0o644)  # entries are read-only; their owner (or root) can undo that
    try:
        target.write_bytes(original.replace(b"2.0", b"6.6"))  # same size
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))  # mtime put back
        again = install(installed, wheels)
        assert again.returncode == 1
        assert "entry-modified" in again.stderr and "rt.py" in again.stderr
        assert "Traceback" not in again.stderr
        ran = cmpkg(installed, "run", "app")
        assert ran.returncode == 1 and "rt.py" in ran.stderr and "cmpkg install" in ran.stderr
        verify = cmpkg(installed, "cache", "verify")
        assert verify.returncode != 0 and "rt.py" in verify.stdout + verify.stderr
    finally:
        target.write_bytes(original)
        target.chmod(info.st_mode)
    assert install(installed, wheels).returncode == 0  # the same bytes again: accepted


def test_a_file_added_to_an_entry_is_not_reused(installed: Path, wheels: Path) -> None:
    site = next((_venv_of(installed) / "venv").rglob("site-packages"))
    mode = site.stat().st_mode
    site.chmod(0o755)
    dropped = site / "zz-evil.pth"
    try:
        dropped.write_text("import os\n")  # would run at every start of the venv's Python
        again = install(installed, wheels)
        assert again.returncode == 1
        assert "entry-modified" in again.stderr and "zz-evil.pth" in again.stderr
    finally:
        dropped.unlink()
        site.chmod(mode)
    assert install(installed, wheels).returncode == 0


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


def test_cache_rm_of_a_used_entry_is_refused_and_run_names_a_missing_one(
    installed: Path, wheels: Path
) -> None:
    record = json.loads((installed / "envs" / "app.json").read_text())
    key = record["packages"]["app"]["key"]
    refused = cmpkg(installed, "cache", "rm", key[:12])
    assert refused.returncode == 1
    assert "entry-referenced" in refused.stderr and "environment app" in refused.stderr
    assert cmpkg(installed, "run", "app").returncode == 0  # still there
    forced = cmpkg(installed, "cache", "rm", "--force", key[:12])
    assert forced.returncode == 0 and "environment app is now broken" in forced.stderr
    ran = cmpkg(installed, "run", "app")
    assert ran.returncode == 1 and ran.stdout == ""  # the app never started
    assert "env-broken" in ran.stderr and f"app ({key[:12]}) is not in the store" in ran.stderr
    assert "cmpkg install app" in ran.stderr and "Traceback" not in ran.stderr
    assert install(installed, wheels).returncode == 0
    assert cmpkg(installed, "run", "app").stdout.strip() == "hi"
