"""Reusing a framework installed with the system's Python (issue: HPC images with their own
CUDA PyTorch): `torch-system` is detected by importing it, and the environment that pins it
sees the interpreter's packages, even when that interpreter is itself a venv."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

APP = """name = "torch-app"
version = "1"
kind = "app"
tags = ["torch-app"]
summary = "prints the torch it runs with"
license = "MIT"
homepage = "https://example.org"
depends = ["torch-system >=2.0"]
run = ["python", "-c", "import torch; print(torch.__version__, torch.__file__)"]
"""


def test_system_torch_is_detected_locked_as_detected_and_visible(tmp_path: Path) -> None:
    system = tmp_path / "image-python"
    venv.EnvBuilder(with_pip=False).create(system)
    site = next((system / "lib").glob("python3*/site-packages"))
    (site / "torch").mkdir()
    (site / "torch" / "__init__.py").write_text("__version__ = '2.11.0+cu130'\n")
    index = tmp_path / "index"
    index.mkdir()
    (index / "app.toml").write_text(APP)
    env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    env["PATH"] = f"{system / 'bin'}{os.pathsep}{env['PATH']}"

    def cmpkg(*args: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "cmpkg", *args]
        return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)

    resolved = cmpkg("resolve", "torch-app", "--index", str(index), "--target", "cpu", "--json")
    assert resolved.returncode == 0, resolved.stderr
    assert json.loads(resolved.stdout)["packages"]["torch-system"]["version"] == "2.11.0"
    installed = cmpkg(
        "install", "torch-app", "--index", str(index), "--target", "cpu", "--no-index"
    )
    assert installed.returncode == 0, installed.stderr
    ran = cmpkg("run", "torch-app")
    assert ran.returncode == 0, ran.stderr
    version, path = ran.stdout.split()
    assert version == "2.11.0+cu130" and path.startswith(str(site))
