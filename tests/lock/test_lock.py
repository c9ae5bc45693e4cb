"""Lockfiles end to end: two targets in one file, byte-stable re-locking, staleness,
reproduction in a fresh CMPKG_HOME, and a CUDA lock refused on this CPU machine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.wheels import demo_project

pytestmark = pytest.mark.slow


def cmpkg(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1"}
    env.pop("CMPKG_OVERRIDE_CUDA", None)
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_project(tmp_path_factory.mktemp("project"))


def lock(project: Path, home: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return cmpkg(
        project, home, "lock", "--find-links", str(project / "wheels"), "--no-index", *extra
    )


@pytest.fixture(scope="module")
def locked(project: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    done = lock(project, tmp_path_factory.mktemp("home"))
    assert done.returncode == 0, done.stderr
    return (project / "cmpkg.lock").read_text()


def test_one_file_holds_both_targets_with_cpu_and_cuda_builds(locked: str) -> None:
    import tomllib

    data = tomllib.loads(locked)
    assert set(data["targets"]) == {"cpu", "h200-cuda13"}
    cpu, gpu = data["targets"]["cpu"], data["targets"]["h200-cuda13"]
    assert cpu["packages"]["rt"]["variant"] == {"device": "cpu"}
    assert gpu["packages"]["rt"]["variant"] == {"device": "cuda"}
    assert [w["name"] for w in cpu["wheels"]] == ["rt"]
    assert [w["name"] for w in gpu["wheels"]] == ["rt-gpu"]
    assert gpu["facts"]["__cuda"] == {"version": "13.0", "source": "profile h200-cuda13"}
    assert all(len(w["sha256"]) == 64 for w in cpu["wheels"] + gpu["wheels"])
    assert data["lock-version"] == 1 and data["index"]["revision"]


def test_relocking_is_byte_identical(project: Path, locked: str, tmp_path: Path) -> None:
    done = lock(project, tmp_path)
    assert done.returncode == 0, done.stderr
    assert (project / "cmpkg.lock").read_text() == locked
    assert "unchanged" in done.stderr


def test_frozen_install_in_a_fresh_home_reproduces_keys_and_hashes(
    project: Path, locked: str, tmp_path: Path
) -> None:
    import tomllib

    data = tomllib.loads(locked)["targets"]["cpu"]
    for home in (tmp_path / "a", tmp_path / "b"):
        done = cmpkg(
            project,
            home,
            "install",
            "--frozen",
            "--find-links",
            str(project / "wheels"),
            "--no-index",
            "--json",
        )
        assert done.returncode == 0, done.stderr
        keys = json.loads(done.stdout)["packages"]
        assert {n: keys[n] for n in data["packages"]} == {
            n: p["key"] for n, p in data["packages"].items()
        }
        record = json.loads((home / "envs" / "app.json").read_text())
        venv = Path(record["packages"]["python-env"]["path"])
        installed = json.loads((venv / "cmpkg-entry.json").read_text())["build"]["installed"]
        assert [(w["name"], w["sha256"]) for w in installed] == [
            (w["name"], w["sha256"]) for w in data["wheels"]
        ]


def test_cuda_lock_target_is_refused_on_this_cpu_machine(
    project: Path, locked: str, tmp_path: Path
) -> None:
    done = cmpkg(project, tmp_path, "install", "--frozen", "--target", "h200-cuda13", "--no-index")
    assert done.returncode == 1
    assert "__cuda" in done.stderr and "Traceback" not in done.stderr


def test_editing_the_manifest_makes_the_lock_stale(
    project: Path, locked: str, tmp_path: Path
) -> None:
    manifest = project / "cmpkg.toml"
    original = manifest.read_text()
    try:
        manifest.write_text(original.replace("requests = ['app']", "requests = ['app', 'rt']"))
        check = cmpkg(project, tmp_path, "lock", "--check")
        assert check.returncode == 1
        assert "cmpkg.toml changed" in check.stderr
        install = cmpkg(project, tmp_path, "install", "--locked", "--no-index")
        assert install.returncode == 1
        assert "out of date" in install.stderr and "cmpkg.toml changed" in install.stderr
    finally:
        manifest.write_text(original)
    sources = ("--find-links", str(project / "wheels"), "--no-index")
    assert cmpkg(project, tmp_path, "lock", "--check", *sources).returncode == 0


def test_detected_packages_are_recorded_as_detected(locked: str) -> None:
    import tomllib

    packages = tomllib.loads(locked)["targets"]["cpu"]["packages"]
    assert packages["python"]["method"] == "detect"
    assert packages["rt"]["method"] == "python"


def test_install_with_no_request_installs_the_manifest(project: Path, tmp_path: Path) -> None:
    wheels = ("--find-links", str(project / "wheels"), "--no-index", "--target", "cpu", "--json")
    done = cmpkg(project, tmp_path, "install", *wheels)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["env"] == "app"
