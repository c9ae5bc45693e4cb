"""A smoke submission of two tiny benchmark apps on the real harness and LoadGen.

The index is built in a temp dir: the shipped harness (copied, depending on this test
interpreter's own numpy/LoadGen/tqdm through a detected, system-site module instead of
wheels, so nothing reaches a package registry), and the `tinybench` package as two apps,
`tiny-resnet50` and `tiny-bert`. One module-scoped fixture locks the project and runs the
whole smoke submission once; the tests read, generate and check copies of it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.fixtures import http_server  # noqa: F401

ROOT = Path(__file__).parents[2]
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
TINYBENCH = Path(__file__).parent / "tinybench"
WAIT_S = 900  # a deadline for a loaded 2-core machine, never a measurement
BIN = str(Path(sys.executable).parent)

APP = """name = "{name}"
version = "1.0"
kind = "app"
tags = ["app", "mlperf", "mlperf-inference", "{tag}"]
summary = "a tiny {tag}-shaped benchmark for submission tests"
license = "MIT"
homepage = "https://example.org/tinybench"
files = ["tinybench"]
run = ["python", "-m", "tinybench.{kind}"]
depends = ["python >=3.10", "mlperf-harness", "host-mlperf-stack"]

[paths]
PYTHONPATH = ["."]
"""

STACK = f"""name = "host-mlperf-stack"
kind = "library"
tags = ["python-lib", "test"]
summary = "the test interpreter's own numpy, LoadGen and tqdm (reused, never installed)"
license = "MIT"
homepage = "https://example.org/host-stack"

[provide]
method = "detect"
executables = ["python3"]
locations = [{json.dumps(BIN)}]
version-args = ["-c", "import numpy, mlperf_loadgen, tqdm; print('stack 1.0.0')"]
version-regex = 'stack (\\d+\\.\\d+\\.\\d+)'
range = ">=1"
system-site-packages = true
"""

PYTHON = f"""name = "python"
kind = "tool"
tags = ["python"]
summary = "the test interpreter"
license = "PSF-2.0"
homepage = "https://www.python.org"

[provide]
method = "detect"
executables = ["python3"]
locations = [{json.dumps(BIN)}]
version-args = ["--version"]
version-regex = 'Python (\\d+\\.\\d+\\.\\d+)'
range = ">=3.10"
"""


def build_index(root: Path) -> Path:
    index = root / "index"
    harness = index / "libraries" / "mlperf-harness"
    shutil.copytree(
        HARNESS / "mlperf_harness",
        harness / "mlperf_harness",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    recipe = (HARNESS / "recipe.toml").read_text()
    recipe = recipe.replace('"numpy", "mlcommons-loadgen", "tqdm"', '"host-mlperf-stack"')
    (harness / "recipe.toml").write_text(recipe)
    (index / "libraries" / "host-mlperf-stack.toml").write_text(STACK)
    (index / "tools").mkdir()
    (index / "tools" / "python.toml").write_text(PYTHON)
    for name, tag, kind in (("tiny-resnet50", "resnet50", "classify"), ("tiny-bert", "bert", "qa")):
        app = index / "apps" / name
        shutil.copytree(TINYBENCH, app / "tinybench", ignore=shutil.ignore_patterns("__pycache__"))
        (app / "recipe.toml").write_text(APP.format(name=name, tag=tag, kind=kind))
    return index


def cmpkg_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", "CMPKG_NO_PROGRESS": "1"}
    env["PATH"] = BIN + os.pathsep + env.get("PATH", "")
    env.pop("CMPKG_OVERRIDE_CUDA", None)
    return env


def cmpkg(cwd: Path, home: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *map(str, args)],
        capture_output=True,
        text=True,
        env=cmpkg_env(home),
        cwd=cwd,
        check=False,
        timeout=WAIT_S,
    )


def ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@dataclass(frozen=True)
class Smoke:
    project: Path
    home: Path
    index: Path
    run: subprocess.CompletedProcess[str]


BENCHMARKS = ("--benchmark", "resnet50=tiny-resnet50", "--benchmark", "bert-99=tiny-bert")


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Smoke]:
    pytest.importorskip("mlperf_loadgen")
    root = tmp_path_factory.mktemp("submission")
    index, project, home = build_index(root), root / "project", root / "home"
    project.mkdir()
    (project / "cmpkg.toml").write_text(
        '[project]\nname = "sub"\nrequests = []\ntargets = ["cpu"]\n'
        f"index = [{json.dumps(str(index))}]\n"
    )
    ok(cmpkg(project, home, "submission", "init", "--submitter", "TinyOrg", *BENCHMARKS))
    manifest = project / "cmpkg.toml"
    # The apps run on this interpreter's LoadGen (host-mlperf-stack): the round's LoadGen
    # release that `submission init` requests would be a wheel from a registry.
    text = manifest.read_text()
    assert ', "mlcommons-loadgen ==6.0.15"]' in text
    text = text.replace(', "mlcommons-loadgen ==6.0.15"', "")
    manifest.write_text(text + 'framework = "numpy (tinybench)"\n')  # no engine package
    ok(cmpkg(project, home, "lock"))
    run = ok(cmpkg(project, home, "submission", "run", "--profile", "smoke"))
    yield Smoke(project, home, index, run)
