"""Choosing a target from the lock (issue: trust): the most specific target that holds here,
`--target` honoured or refused naming the fact, the choice printed; a CUDA target that cannot
have its CUDA build is an error naming the target; `cmpkg lock --target NAME`."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from cmpkg.lock.choose import choose_target
from cmpkg.lock.model import Lock, LockedPackage, LockedTarget
from cmpkg.probe import resolve_target
from tests.support.cli import run_cmpkg

ACCEL = """name = "accel"
version = "1.0"
kind = "library"
tags = ["accel"]
summary = "a runtime with cpu and cuda builds"
license = "MIT"
homepage = "https://example.org/accel"
depends = ["__arch == x86_64"]

[variants.device]
default = "cpu"
[variants.device.cpu]
[variants.device.cuda]
depends = ["__cuda >={cuda}"]
"""
APP = """name = "app"
version = "1.0"
kind = "app"
tags = ["app"]
summary = "a benchmark"
license = "MIT"
homepage = "https://example.org/app"
depends = [
    { name = "accel", variants = { device = "cpu" }, when = { device = "cpu" } },
    { name = "accel", variants = { device = "cuda" }, when = { device = "cuda" } },
]
run = ["true"]

[variants.device]
default = "cpu"
[variants.device.cpu]
[variants.device.cuda]
"""


def cmpkg(cwd: Path, *args: str, **overrides: str) -> subprocess.CompletedProcess[str]:
    return run_cmpkg(cwd, cwd / "home", *args, env=overrides)


def _project(root: Path, targets: list[str], cuda: str = "12.4") -> Path:
    index = root / "index"
    index.mkdir(parents=True)
    (index / "accel.toml").write_text(ACCEL.replace("{cuda}", cuda))
    (index / "app.toml").write_text(APP)
    (root / "cmpkg.toml").write_text(
        f"[project]\nname = 'demo'\nrequests = ['app']\ntargets = {json.dumps(targets)}\n"
        "index = ['index']\n"
    )
    return root


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _project(tmp_path_factory.mktemp("choice"), ["cpu", "h200-cuda13"])
    done = cmpkg(project, "lock", CMPKG_OVERRIDE_CUDA="")
    assert done.returncode == 0, done.stderr
    return project


H200_HOST = {"CMPKG_OVERRIDE_CUDA": "13.0", "CMPKG_OVERRIDE_CUDA_ARCH": "9.0"}


def test_a_cuda_host_gets_the_cuda_target_and_is_told_why(locked: Path) -> None:
    """Before: the alphabetically first target whose requirements held (`cpu`) won."""
    done = cmpkg(locked, "install", "--frozen", **H200_HOST)
    assert done.returncode == 0, done.stderr
    assert "lock target h200-cuda13" in done.stderr and "more specific than cpu" in done.stderr
    record = json.loads((locked / "home" / "envs" / "app.json").read_text())
    assert record["target"] == "h200-cuda13"
    context = json.loads(Path(record["variables"]["CMPKG_RUN_CONTEXT"]).read_text())
    assert context["resolution"]["packages"]["accel"]["variant"] == {"device": "cuda"}
    # every result can be traced to its lock: file, sha256, target, index revision
    import hashlib

    import tomllib

    lock_bytes = (locked / "cmpkg.lock").read_bytes()
    origin = context["lock"]
    assert origin["sha256"] == hashlib.sha256(lock_bytes).hexdigest()
    assert origin["target"] == "h200-cuda13" and context["resolution"]["target"] == "h200-cuda13"
    assert origin["index-revision"] == tomllib.loads(lock_bytes.decode())["index"]["revision"]
    assert record["context"]["lock"] == origin


def test_target_cpu_is_honoured_on_a_cuda_host(locked: Path) -> None:
    done = cmpkg(locked, "install", "--frozen", "--target", "cpu", "--json", **H200_HOST)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["target"] == "cpu"


def test_an_aarch64_machine_refuses_the_x86_64_cpu_target_naming_the_fact(locked: Path) -> None:
    done = cmpkg(locked, "install", "--frozen", "--target", "cpu", CMPKG_OVERRIDE_ARCH="aarch64")
    assert done.returncode == 1
    assert "lock target cpu" in done.stderr
    assert "needs __arch=x86_64; this machine has __arch=aarch64" in done.stderr
    assert "Traceback" not in done.stderr


def test_without_cuda_the_cpu_target_is_chosen_and_the_cuda_one_refused(locked: Path) -> None:
    auto = cmpkg(locked, "install", "--frozen", "--json", CMPKG_OVERRIDE_CUDA="")
    assert auto.returncode == 0, auto.stderr
    assert json.loads(auto.stdout)["target"] == "cpu"
    forced = cmpkg(locked, "install", "--frozen", "--target", "cuda", CMPKG_OVERRIDE_CUDA="")
    assert forced.returncode == 1
    assert "none of the lock's CUDA targets" in forced.stderr and "__cuda" in forced.stderr


def test_an_impossible_cuda_build_on_a_cuda_target_is_an_error_naming_it(tmp_path: Path) -> None:
    """Before: the CUDA profile quietly locked device=cpu, a CPU benchmark on an H200."""
    project = _project(tmp_path, ["cpu", "h200-cuda13"], cuda="14.0")
    done = cmpkg(project, "lock", CMPKG_OVERRIDE_CUDA="")
    assert done.returncode == 1
    assert "lock target h200-cuda13: cannot install app" in done.stderr
    assert "__cuda" in done.stderr and not (project / "cmpkg.lock").exists()


def test_lock_target_relocks_one_target_and_keeps_the_others(tmp_path: Path) -> None:
    project = _project(tmp_path, ["cpu"])
    assert cmpkg(project, "lock", CMPKG_OVERRIDE_CUDA="").returncode == 0
    before = (project / "cmpkg.lock").read_text()
    manifest = project / "cmpkg.toml"
    manifest.write_text(manifest.read_text().replace('["cpu"]', '["cpu", "h200-cuda13"]'))
    done = cmpkg(project, "lock", "--target", "h200-cuda13", CMPKG_OVERRIDE_CUDA="")
    assert done.returncode == 0, done.stderr
    import tomllib

    after = tomllib.loads((project / "cmpkg.lock").read_text())
    assert set(after["targets"]) == {"cpu", "h200-cuda13"}
    assert after["targets"]["cpu"] == tomllib.loads(before)["targets"]["cpu"]
    assert cmpkg(project, "lock", "--check").returncode == 0
    unknown = cmpkg(project, "lock", "--target", "nope")
    assert unknown.returncode == 2 and "no target nope" in unknown.stderr


def _target(name: str, python: str, requires: tuple[str, ...]) -> LockedTarget:
    packages = {
        "python": LockedPackage("python", python, (), "tool", "detect", "k", "r", (), ()),
        "accel": LockedPackage("accel", "1.0", (), "library", "meta", "k", "r", (), requires),
    }
    return LockedTarget(name, python, (), {}, ("accel",), packages, (), None)


def test_a_python_mismatch_falls_through_to_the_next_target() -> None:
    machine = resolve_target("h200-cuda13")  # a profile: x86_64 with CUDA 13.0
    lock = Lock(
        "",
        "",
        (),
        {},
        {
            "gpu-py312": _target("gpu-py312", "3.12.1", ("__arch == x86_64", "__cuda >=12")),
            "cpu": _target("cpu", "3.11.7", ("__arch == x86_64",)),
        },
    )
    assert choose_target(lock, machine, "host", "3.12.3").target.name == "gpu-py312"
    choice = choose_target(lock, machine, "host", "3.11.7")
    assert choice.target.name == "cpu"
    with pytest.raises(Exception, match="does not match lock target gpu-py312") as raised:
        choose_target(lock, machine, "gpu-py312", "3.11.7")
    assert "was locked for Python 3.12.1; this machine has Python 3.11.7" in str(
        getattr(raised.value, "details", ())
    )
