"""Mirrors end to end: create from a lock, install with no network at all from a fresh
CMPKG_HOME, serve over loopback HTTP, and refuse tampered bytes and rollbacks."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.mirror.run import can_unshare, cmpkg, mirror_serve

pytestmark = pytest.mark.slow


def test_mirror_holds_wheels_artifacts_index_and_lock(world: Path) -> None:
    manifest = json.loads((world / "m" / "mirror.json").read_text())
    files = manifest["files"]
    assert "artifacts/blob.tar.gz" in files and "cmpkg.lock" in files
    assert any(p.startswith("wheels/rt-2.0") for p in files)
    assert any(p.endswith("blob.toml") for p in files)
    assert cmpkg(world, world / "h", "mirror", "verify", str(world / "m")).returncode == 0


def test_air_gapped_install_and_run(world: Path, tmp_path: Path) -> None:
    if not can_unshare():
        pytest.skip("cannot create a network namespace here")
    log = tmp_path / "sockets.log"
    env = {
        "CMPKG_TEST_SOCKET_LOG": str(log),
        "PYTHONPATH": f"{Path(__file__).parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    hook = [
        "-c",
        "import audit_sockets, runpy, sys; sys.argv[0] = 'cmpkg'; "
        "runpy.run_module('cmpkg', run_name='__main__')",
    ]
    home = tmp_path / "home"
    cwd = tmp_path  # no project here: the mirror's own lock is used
    argv = [
        "unshare",
        "-n",
        sys.executable,
        *hook,
        "install",
        "--frozen",
        "--offline",
        "--mirror",
        str(world / "m"),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, "CMPKG_HOME": str(home), **env},
    )
    assert done.returncode == 0, done.stderr
    remote = [
        line
        for line in (log.read_text().splitlines() if log.exists() else [])
        if "127.0.0.1" not in line
    ]
    assert remote == []
    run = cmpkg(cwd, home, "run", "app2", netns=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2.0", "weights"]


def test_mirror_over_loopback_http(world: Path, tmp_path: Path) -> None:
    with mirror_serve(world / "m") as url:
        done = cmpkg(
            tmp_path, tmp_path / "home", "install", "--frozen", "--offline", "--mirror", url
        )
    assert done.returncode == 0, done.stderr


def test_flipped_byte_is_detected_and_refused(world: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(world / "m", copy)
    wheel = next((copy / "wheels").glob("rt-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    verify = cmpkg(tmp_path, tmp_path / "h", "mirror", "verify", str(copy))
    assert verify.returncode == 1 and "tampered or stale" in verify.stderr
    install = cmpkg(
        tmp_path, tmp_path / "h", "install", "--frozen", "--offline", "--mirror", str(copy)
    )
    assert install.returncode == 1
    assert "does not match the mirror's manifest" in install.stderr


def test_older_mirror_is_refused_after_a_newer_one(world: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(world / "m", old)
    shutil.copytree(world / "m", new)
    home = tmp_path / "h"
    links = ("--find-links", str(world / "wheels"), "--no-index")
    # --expires-days re-stamps the manifest even though no file changed.
    done = cmpkg(world, home, "mirror", "create", str(new), *links, "--expires-days", "30")
    assert done.returncode == 0, done.stderr
    install = ("install", "--frozen", "--offline", "--dry-run", "--mirror")
    used = cmpkg(tmp_path, home, *install, str(new))
    assert used.returncode == 0, used.stderr
    refused = cmpkg(tmp_path, home, *install, str(old))
    assert refused.returncode == 1 and "older than one already used" in refused.stderr
