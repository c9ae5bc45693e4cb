"""The lock's wheels come only from cmpkg's own sources (RELIABILITY G.35): a poisoned
PIP_CONSTRAINT, PIP_FIND_LINKS, pip.conf, UV_* variable or uv.toml changes nothing; the
sources are recorded in the lock and `lock --check` compares them; an unchanged lock is
answered from the memo of wheel resolutions, without running uv."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.install.wheels import build_wheel, demo_project

pytestmark = pytest.mark.slow


def cmpkg(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "cmpkg", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def clean_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env.pop("CMPKG_OVERRIDE_CUDA", None)
    return {**env, "CMPKG_HOME": str(home), "NO_COLOR": "1"}


def poisoned_env(home: Path, root: Path) -> dict[str, str]:
    """Every installer setting a user (or an attacker with their shell profile) could set."""
    poison = root / "poison"
    poison.mkdir()
    # Same name and version, other bytes, a tag any installer prefers to py3-none-any.
    build_wheel(poison, "rt", "2.0", "EVIL = 1\n", tag="py3-none-manylinux2014_x86_64")
    build_wheel(poison, "rt-gpu", "2.0", "EVIL = 1\n", tag="py3-none-manylinux2014_x86_64")
    constraints = root / "constraints.txt"
    constraints.write_text("rt==1.0\nrt-gpu==1.0\n")
    pip_conf = root / "pip.conf"
    pip_conf.write_text(f"[global]\nfind-links = {poison}\nconstraint = {constraints}\n")
    uv_dir = root / "xdg" / "uv"
    uv_dir.mkdir(parents=True)
    (uv_dir / "uv.toml").write_text(
        f'find-links = ["{poison}"]\nconstraint-dependencies = ["rt==1.0"]\n'
    )
    return {
        **clean_env(home),
        "PIP_CONSTRAINT": str(constraints),
        "PIP_FIND_LINKS": str(poison),
        "PIP_CONFIG_FILE": str(pip_conf),
        "UV_FIND_LINKS": str(poison),
        "UV_CONSTRAINT": str(constraints),
        "XDG_CONFIG_HOME": str(root / "xdg"),
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return demo_project(tmp_path / "project")


def sources(project: Path) -> tuple[str, ...]:
    return ("--find-links", str(project / "wheels"), "--no-index")


def test_poisoned_installer_settings_do_not_change_the_lock(project: Path, tmp_path: Path) -> None:
    done = cmpkg(project, clean_env(tmp_path / "a"), "lock", *sources(project))
    assert done.returncode == 0, done.stderr
    clean = (project / "cmpkg.lock").read_text()
    (project / "cmpkg.lock").unlink()
    poisoned = poisoned_env(tmp_path / "b", tmp_path)
    done = cmpkg(project, poisoned, "lock", *sources(project))
    assert done.returncode == 0, done.stderr
    assert (project / "cmpkg.lock").read_text() == clean
    assert str(tmp_path / "poison") not in clean and "rt==1.0" not in clean
    recorded = tomllib.loads(clean)["sources"]
    assert recorded == {
        "default-index": False,
        "indexes": [],
        "find-links": [str(project / "wheels")],
    }


def test_lock_check_compares_the_wheel_sources(project: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home")
    assert cmpkg(project, env, "lock", *sources(project)).returncode == 0
    assert cmpkg(project, env, "lock", "--check", *sources(project)).returncode == 0
    other = tmp_path / "other-wheels"
    other.mkdir()
    check = cmpkg(project, env, "lock", "--check", "--find-links", str(other), "--no-index")
    assert check.returncode == 1
    assert "wheel sources changed" in check.stderr and str(other) in check.stderr
    check = cmpkg(project, env, "lock", "--check", "--find-links", str(project / "wheels"))
    assert check.returncode == 1 and "default-index was False, now True" in check.stderr


def test_every_target_records_its_platform(project: Path, tmp_path: Path) -> None:
    env = clean_env(tmp_path / "home")
    assert cmpkg(project, env, "lock", *sources(project)).returncode == 0
    targets = tomllib.loads((project / "cmpkg.lock").read_text())["targets"]
    gpu = targets["h200-cuda13"]
    assert gpu["python"] == "3.12"
    assert gpu["system"] == {
        "os": "linux",
        "arch": "x86_64",
        "libc": "glibc",
        "libc-version": "2.39",
        "abi": "cp312",
    }
    assert gpu["platform"][0] == "manylinux_2_39_x86_64"
    cpu = targets["cpu"]  # the probed host: its detected interpreter and its own tags
    detected = cpu["packages"]["python"]["version"]
    assert cpu["python"] == detected
    assert cpu["system"]["abi"] == "cp" + "".join(detected.split(".")[:2])
    assert cpu["system"]["arch"] and cpu["platform"]


def test_an_unchanged_lock_does_not_run_uv(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = clean_env(home)
    assert cmpkg(project, env, "lock", *sources(project)).returncode == 0
    first = (project / "cmpkg.lock").read_text()
    shutil.rmtree(home / "uv-v1")  # uv recreates its cache on any run
    done = cmpkg(project, env, "lock", *sources(project))
    assert done.returncode == 0, done.stderr
    assert (project / "cmpkg.lock").read_text() == first
    assert not (home / "uv-v1").exists()
    done = cmpkg(project, env, "lock", "--upgrade", *sources(project))
    assert done.returncode == 0, done.stderr
    assert (home / "uv-v1").exists()  # --upgrade asks the sources again
