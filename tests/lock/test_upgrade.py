"""Re-locking keeps what the lock pinned while it is still valid; --upgrade-package and
--upgrade move on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

from tests.install.wheels import build_wheel

INDEX = Path(__file__).parents[1] / "resolve" / "index"
pytestmark = pytest.mark.slow


def lock(project: Path, *extra: str) -> str:
    env = {**os.environ, "CMPKG_HOME": str(project / "home"), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "cmpkg", "lock", "--find-links", str(project / "wheels")]
    done = subprocess.run(
        [*argv, "--no-index", *extra],
        capture_output=True,
        text=True,
        env=env,
        cwd=project,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return str(
        tomllib.loads((project / "cmpkg.lock").read_text())["targets"]["cpu"]["packages"]["rt"][
            "version"
        ]
    )


def manifest(project: Path, request: str) -> None:
    (project / "cmpkg.toml").write_text(
        f"[project]\nrequests = [{json.dumps(request)}]\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(INDEX))}]\n"
    )


def test_relock_keeps_pins_until_asked_to_upgrade(tmp_path: Path) -> None:
    (tmp_path / "wheels").mkdir()
    for version in ("1.0", "2.0"):
        build_wheel(tmp_path / "wheels", "rt", version, f"VERSION = {version!r}\n")
    manifest(tmp_path, "rt<2")
    assert lock(tmp_path) == "1.0"
    manifest(tmp_path, "rt")
    assert lock(tmp_path) == "1.0"  # still valid: kept
    assert lock(tmp_path, "--upgrade-package", "rt") == "2.0"
    manifest(tmp_path, "rt<2")
    assert lock(tmp_path) == "1.0"  # no longer valid: moved
    manifest(tmp_path, "rt")
    assert lock(tmp_path, "--upgrade") == "2.0"
