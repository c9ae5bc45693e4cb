"""Recipe steps: they run with a clean environment and may write only inside their entry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cmpkg import confine

RECIPE = """name = "{name}"
version = "1"
kind = "dataset"
tags = ["{name}"]
summary = "s"
license = "MIT"
homepage = "https://example.org"
env = {{ DATA = "${{entry}}/data.txt" }}
depends = ["hello-tool"]

[provide]
method = "generate"
script = "step.py"
args = ["--out", "${{entry}}", "--also", "{also}"]
"""
STEP = """import argparse, os, pathlib
p = argparse.ArgumentParser(); p.add_argument("--out"); p.add_argument("--also")
a = p.parse_args()
import shutil, subprocess
secrets = sorted(k for k in os.environ if "SECRET" in k)
# a dependency's [paths] are prepended to the step's PATH, the system's stay reachable
greeting = subprocess.run(["hello"], capture_output=True, text=True, check=True).stdout.strip()
assert greeting == "hello" and shutil.which("sh"), os.environ["PATH"]
pathlib.Path(a.out, "data.txt").write_text(f"made; secrets={secrets}; home={os.environ['HOME']}")
if a.also:
    pathlib.Path(a.also).write_text("escaped")
"""


TOOL = """name = "hello-tool"
version = "1"
kind = "tool"
tags = ["hello"]
summary = "a tool shipped in the recipe's own files"
license = "MIT"
homepage = "https://example.org"
files = ["bin"]

[paths]
PATH = ["bin"]
"""


def _index(root: Path, name: str, also: str) -> Path:
    directory = root / f"index-{name}"
    (directory / "tool" / "bin").mkdir(parents=True)
    (directory / "recipe.toml").write_text(RECIPE.format(name=name, also=also))
    (directory / "step.py").write_text(STEP)
    (directory / "tool" / "recipe.toml").write_text(TOOL)
    hello = directory / "tool" / "bin" / "hello"
    hello.write_text("#!/bin/sh\necho hello\n")
    hello.chmod(0o755)
    return directory


def _install(home: Path, index: Path, name: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", "MY_SECRET_TOKEN": "hunter2"}
    argv = [
        sys.executable,
        "-m",
        "cmpkg",
        "install",
        name,
        "--index",
        str(index),
        "--target",
        "cpu",
    ]
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)


def test_a_step_gets_a_clean_environment(tmp_path: Path) -> None:
    done = _install(tmp_path / "home", _index(tmp_path, "clean", ""), "clean")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "home" / "envs" / "clean.json").read_text())
    made = Path(record["variables"]["DATA"]).read_text()
    assert made.startswith("made; secrets=[]")  # MY_SECRET_TOKEN did not reach the step
    assert str(tmp_path / "home") not in made.split("home=")[1]  # HOME is a scratch dir


@pytest.mark.skipif(confine.available() is not None, reason=f"{confine.available()}")
def test_a_step_writing_outside_its_entry_fails_and_leaves_no_entry(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    done = _install(tmp_path / "home", _index(tmp_path, "escape", str(outside)), "escape")
    assert done.returncode == 1
    assert "generate step of escape 1 failed" in done.stderr
    assert "Read-only file system" in done.stderr
    assert not outside.exists()
    entries = tmp_path / "home" / "store-v1" / "entries"
    assert not entries.exists() or not any((e / "data.txt").exists() for e in entries.iterdir())


@pytest.mark.skipif(confine.available() is not None, reason=f"{confine.available()}")
def test_a_step_gets_a_private_dev_shm_and_a_read_only_tmp(tmp_path: Path) -> None:
    import uuid

    shm = Path("/dev/shm") / f"cmpkg-test-{uuid.uuid4().hex}"
    done = _install(tmp_path / "home", _index(tmp_path, "shm", str(shm)), "shm")
    assert done.returncode == 0, done.stderr  # it wrote into its own, private /dev/shm
    assert not shm.exists()  # ... which vanished with the step; the real one is untouched
    loose = Path("/tmp") / f"cmpkg-test-{uuid.uuid4().hex}"
    done = _install(tmp_path / "home", _index(tmp_path, "tmp", str(loose)), "tmp")
    assert done.returncode == 1 and "Read-only file system" in done.stderr
    assert not loose.exists()


@pytest.mark.skipif(confine.available() is not None, reason=f"{confine.available()}")
def test_confined_directories_under_tmp_stay_writable(tmp_path: Path) -> None:
    work = tmp_path / "work"  # under /tmp: the private /tmp must still show it, writable
    work.mkdir()
    (work / "before").write_text("x")
    argv = [
        "sh",
        "-c",
        'cat before && echo made > after && python3 -c "import multiprocessing as m; m.Lock()"',
    ]
    done = subprocess.run(
        confine.confined(argv, [work]), cwd=work, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert (work / "after").read_text() == "made\n"
