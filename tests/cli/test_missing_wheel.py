"""A wheel that no allowed source has is named as such (wheel-not-found), with every place
looked in, not as the installer's "from versions: none" with a hint calling it a conflict."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg.errors import CmpkgError
from cmpkg.pyenv import WheelSource
from cmpkg.wheel_errors import missing_wheel, unreachable_index

INDEX = Path(__file__).parents[1] / "resolve" / "index"

# What the installers printed here for a requirement no source had (captured from pip 25 and
# uv 0.9 runs with --no-index and an empty --find-links directory, and uv with --offline).
PIP = [
    "ERROR: Could not find a version that satisfies the requirement rt==2.0 (from versions: none)",
    "ERROR: No matching distribution found for rt==2.0",
]
UV = [
    "error: No solution found when resolving dependencies",
    "  cause: Because rt was not found in the provided package locations and you require "
    "rt==1.0, we can conclude that your requirements are unsatisfiable.",
]
UV_OFFLINE = [
    "error: No solution found when resolving dependencies",
    "  cause: Because rt was not found in the cache and you require rt==1.0, we can conclude "
    "that your requirements are unsatisfiable.",
]


@pytest.mark.parametrize(("output", "wanted"), [(PIP, "rt==2.0"), (UV, "rt"), (UV_OFFLINE, "rt")])
def test_the_installers_words_for_a_missing_wheel_become_wheel_not_found(
    output: list[str], wanted: str
) -> None:
    failed = CmpkgError("pip-failed", "pip could not install", details=output, hint="conflict")
    sources = WheelSource(("/srv/mirror/wheels", "/tmp/links"), (), no_index=True)
    error = missing_wheel(failed, sources, "3.12")
    assert error.code == "wheel-not-found"
    assert error.message == f"no wheel for {wanted} (Python 3.12) in the sources cmpkg may use"
    assert error.details == ("looked in: find-links /srv/mirror/wheels, find-links /tmp/links",)
    assert error.hint and "mirror" in error.hint


def test_a_real_conflict_is_left_as_it_is() -> None:
    failed = CmpkgError("pip-failed", "pip could not install", details=["ResolutionImpossible"])
    assert missing_wheel(failed, WheelSource(), "3.12") is failed


# What uv 0.13 printed here resolving torch==2.9.1+cpu, PyTorch's CPU index out of reach (DNS).
UV_NO_INDEX = [
    "error: Request failed after 3 retries in 6.7s",
    "  cause: Failed to fetch: https://download.pytorch.org/whl/cpu/torch/",
    "  cause: error sending request for url (https://download.pytorch.org/whl/cpu/torch/)",
    "  cause: client error (Connect)",
    "  cause: dns error",
]
PYTORCH_CPU = "https://download.pytorch.org/whl/cpu"


def test_a_variants_index_out_of_reach_is_named_with_the_default_index_way_out() -> None:
    failed = CmpkgError("wheel-resolution-failed", "uv cannot resolve", details=UV_NO_INDEX)
    error = unreachable_index(failed, (PYTORCH_CPU,))
    assert error.code == "index-unreachable"
    assert error.message == f"the wheel index {PYTORCH_CPU} cannot be reached from here"
    assert error.details[-1] == "cause: dns error"
    assert error.hint and "framework=registry" in error.hint
    # the default index itself out of reach: named by its URL, no variant to change
    other = unreachable_index(failed, ())
    assert other.code == "index-unreachable" and "framework" not in (other.hint or "")
    assert unreachable_index(CmpkgError("x", "y", details=UV), (PYTORCH_CPU,)).code == "x"


@pytest.mark.slow
def test_offline_install_without_the_wheel_names_it_and_where_it_looked(tmp_path: Path) -> None:
    links = tmp_path / "links"
    links.mkdir()
    argv = [sys.executable, "-m", "cmpkg", "install", "app", "--index", str(INDEX)]
    argv += ["--target", "cpu", "--offline", "--find-links", str(links)]
    env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if not line.startswith("build ")]
    assert errors[0].startswith("error: no wheel for rt")
    assert errors[0].endswith("in the sources cmpkg may use [wheel-not-found]")
    assert errors[1] == f"  looked in: find-links {links}"
    assert errors[2].startswith("hint: without an index, wheels come only from a mirror")
    assert "Traceback" not in done.stderr and "conflict" not in done.stderr
