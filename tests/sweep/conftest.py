"""Sweep test fixtures: a project on the tiny `sweepapp` index, the CLI, and a real Slurm.

`slurm` starts a single-node cluster with tools/slurm-local.sh in a temp dir for the session
(the same script CI uses) and stops it afterwards; it skips only where the Slurm or munge
binaries are absent (.ci/run installs them).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.install.wheels import build_wheel

ROOT = Path(__file__).parents[2]
INDEX = Path(__file__).parent / "index"
SLURM_SCRIPT = ROOT / "tools" / "slurm-local.sh"
WAIT_S = 300  # a deadline for conditions on a loaded 2-core machine, never a measurement


def write_project(root: Path, sweep: str) -> Path:
    """cmpkg.toml with `sweep` as its [sweep] table, and the tinyrt wheel in root/wheels."""
    root.mkdir(parents=True, exist_ok=True)
    wheels = root / "wheels"
    wheels.mkdir(exist_ok=True)
    build_wheel(wheels, "tinyrt", "1.0", "VERSION = '1.0'\n")
    (root / "cmpkg.toml").write_text(
        "[project]\nname = 'sw'\nrequests = []\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(INDEX))}]\n\n[sweep]\n{sweep}"
    )
    return root


WHEELS = ("--find-links", "wheels", "--no-index")


def cmpkg_env(home: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    full = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", **(env or {})}
    full.pop("CMPKG_OVERRIDE_CUDA", None)
    return full


def cmpkg(
    cwd: Path, home: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args],
        capture_output=True,
        text=True,
        env=cmpkg_env(home, env),
        cwd=cwd,
        check=False,
        timeout=WAIT_S,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def status(project: Path, home: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Cell id -> its `sweep status --json` entry."""
    done = ok(cmpkg(project, home, "sweep", "status", "--json", *WHEELS, env=env))
    return {item["cell"]: item for item in json.loads(done.stdout)}


def wait_until(condition: Callable[[], bool], what: str) -> None:
    """Poll a condition (cells are processes we do not control) up to a generous deadline."""
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def slurm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SLURM_CONF of a running single-node cluster."""
    missing = [t for t in ("sbatch", "squeue", "slurmctld", "slurmd", "munged") if not _have(t)]
    if missing:
        pytest.skip(f"needs Slurm and munge ({', '.join(missing)} not found)")
    state = tmp_path_factory.mktemp("slurm")
    env = {**os.environ, "CMPKG_SLURM_DIR": str(state)}
    started = subprocess.run(
        ["sh", str(SLURM_SCRIPT), "start"], capture_output=True, text=True, env=env, check=False
    )
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield started.stdout.strip().split("=", 1)[1]
    finally:
        subprocess.run(["sh", str(SLURM_SCRIPT), "stop"], env=env, check=False)


def _have(tool: str) -> bool:
    return shutil.which(tool) is not None or Path("/usr/sbin", tool).exists()
