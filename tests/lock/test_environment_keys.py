"""What the lock records is what gets installed (issue: trust): the Python environment is
keyed by the wheels in it, and a package's key depends only on what it consumes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.install.wheels import build_wheel
from tests.support.cli import run_cmpkg

pytestmark = pytest.mark.slow

PYTHON = """name = "python"
kind = "tool"
tags = ["python"]
summary = "CPython"
license = "PSF-2.0"
homepage = "https://www.python.org"

[provide]
method = "detect"
executables = ["python3"]
range = ">=3.10"
"""


def _recipe(name: str, kind: str, body: str, depends: tuple[str, ...] = ()) -> str:
    return (
        f'name = "{name}"\nversion = "1.0"\nkind = "{kind}"\ntags = ["{name}"]\n'
        f'summary = "s"\nlicense = "MIT"\nhomepage = "https://example.org"\n'
        f"depends = {json.dumps(list(depends))}\n{body}"
    )


def _library(name: str, requirement: str) -> str:
    return _recipe(
        name,
        "library",
        f'\n[provide]\nmethod = "python"\nrequirements = ["{requirement}"]\n',
        ("python >=3.10",),
    )


def _generated(
    name: str, kind: str, depends: tuple[str, ...], imports: tuple[str, ...] = ()
) -> str:
    args = json.dumps(["${entry}", *imports])
    body = f'\n[provide]\nmethod = "generate"\nscript = "gen.py"\nargs = {args}\n'
    return _recipe(name, kind, body, depends)


RUN = 'run = ["python", "-c", "print(1)"]\n'
# A step imports what it depends on, inside its own environment (VIRTUAL_ENV is that venv).
GEN = """import os, pathlib, sys
for module in sys.argv[2:]:
    __import__(module)
if sys.argv[2:]:
    assert os.environ["VIRTUAL_ENV"] == sys.prefix, (os.environ.get("VIRTUAL_ENV"), sys.prefix)
pathlib.Path(sys.argv[1], "out.txt").write_text("made")
"""


def cmpkg(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cmpkg(cwd, home, *args)


def _write_index(root: Path, recipes: dict[str, str]) -> Path:
    index = root / "index"
    for name, text in recipes.items():
        (index / name).mkdir(parents=True)
        (index / name / "recipe.toml").write_text(text)
        if "generate" in text:
            (index / name / "gen.py").write_text(GEN)
    return index


def _project(root: Path, requests: list[str], index: Path) -> Path:
    (root / "cmpkg.toml").write_text(
        "[project]\nname = 'demo'\n"
        f"requests = {json.dumps(requests)}\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(index))}]\n"
    )
    return root


def _lock(project: Path, home: Path, wheels: Path) -> dict[str, Any]:
    done = cmpkg(project, home, "lock", "--find-links", str(wheels), "--no-index")
    assert done.returncode == 0, done.stderr
    import tomllib

    return tomllib.loads((project / "cmpkg.lock").read_text())


def _install(project: Path, home: Path, wheels: Path) -> dict[str, Any]:
    args = ("install", "--frozen", "--find-links", str(wheels), "--no-index", "--json")
    done = cmpkg(project, home, *args)
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_two_locks_differing_in_one_wheel_give_two_environments(tmp_path: Path) -> None:
    """Same requests, one dependency wheel newer: before, both locks had one environment key
    and `install --frozen` of the second said "0 built", leaving the first's wheel in place."""
    index = _write_index(
        tmp_path,
        {
            "python": PYTHON,
            "rt": _library("rt", "rt==1.0"),
            "app": _recipe("app", "app", RUN, ("rt",)),
        },
    )
    old, new = tmp_path / "wheels-old", tmp_path / "wheels-new"
    for directory in (old, new):
        directory.mkdir()
        build_wheel(directory, "rt", "1.0", "", requires=("dep",))
        build_wheel(directory, "dep", "1.0", "VERSION = 1\n")
    build_wheel(new, "dep", "2.0", "VERSION = 2\n")
    (tmp_path / "project").mkdir()
    project = _project(tmp_path / "project", ["app"], index)
    home = tmp_path / "home"
    first = _lock(project, home, old)
    shutil.copy(project / "cmpkg.lock", tmp_path / "first.lock")
    second = _lock(project, home, new)
    versions = [
        {w["name"]: w["version"] for w in lock["targets"]["cpu"]["wheels"]}
        for lock in (first, second)
    ]
    assert versions == [{"dep": "1.0", "rt": "1.0"}, {"dep": "2.0", "rt": "1.0"}]
    keys = [lock["targets"]["cpu"]["environment-key"] for lock in (first, second)]
    assert keys[0] != keys[1]

    installed = []
    for lock in (tmp_path / "first.lock", project / "cmpkg.lock"):
        done = cmpkg(
            project,
            home,
            "install",
            "--frozen",
            "--lock",
            str(lock),
            "--find-links",
            str(new),
            "--no-index",
            "--json",
        )
        assert done.returncode == 0, done.stderr
        installed.append(json.loads(done.stdout))
    assert [i["packages"]["python-env"] for i in installed] == keys
    assert installed[1]["built"] >= 1  # the second environment is built, not "already installed"
    record = json.loads((home / "envs" / "app.json").read_text())
    venv = Path(record["packages"]["python-env"]["path"])
    entry = json.loads((venv / "cmpkg-entry.json").read_text())
    assert {w["name"]: w["version"] for w in entry["build"]["installed"]}["dep"] == "2.0"


def test_an_independent_request_changes_only_its_own_lines(tmp_path: Path) -> None:
    """Adding a library nothing else uses: before, every key of the target changed (the
    python packages hashed the environment's key, and the data hashed them)."""
    index = _write_index(
        tmp_path,
        {
            "python": PYTHON,
            "liba": _library("liba", "liba==1.0"),
            "libb": _library("libb", "libb==1.0"),
            "data": _generated("data", "dataset", ("liba", "python"), ("liba",)),
            "model": _generated("model", "model", ("python",)),
            "app": _recipe("app", "app", RUN, ("data", "model", "liba")),
        },
    )
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "liba", "1.0", "")
    build_wheel(wheels, "libb", "1.0", "")
    (tmp_path / "project").mkdir()
    project = _project(tmp_path / "project", ["app"], index)
    home = tmp_path / "home"
    before = _lock(project, home, wheels)
    text_before = (project / "cmpkg.lock").read_text()
    first = _install(project, home, wheels)
    assert cmpkg(project, home, "add", "libb").returncode == 0
    after = _lock(project, home, wheels)

    old, new = before["targets"]["cpu"], after["targets"]["cpu"]
    assert set(new["packages"]) - set(old["packages"]) == {"libb"}
    assert {n: p for n, p in new["packages"].items() if n != "libb"} == old["packages"]
    assert old["packages"]["data"]["key"] == new["packages"]["data"]["key"]
    assert old["packages"]["model"]["key"] == new["packages"]["model"]["key"]
    assert new["tool-wheels"] == old["tool-wheels"] == {"data": old["tool-wheels"]["data"]}
    assert new["environment-key"] != old["environment-key"]
    assert [w["name"] for w in new["wheels"]] == ["liba", "libb"]
    same = {
        k: v for k, v in new.items() if k not in ("packages", "environment-key", "wheels", "roots")
    }
    assert same == {
        k: v for k, v in old.items() if k not in ("packages", "environment-key", "wheels", "roots")
    }
    removed = set(text_before.splitlines()) - set((project / "cmpkg.lock").read_text().splitlines())
    assert all(
        "environment-key" in line or "manifest-hash" in line or "roots" in line for line in removed
    ), removed

    # The lock's keys are the ones an install computes, tool environment included, and
    # installing the new lock over the old builds the library and the environment only.
    second = _install(project, home, wheels)
    keys = second["packages"]
    assert second["built"] == 2 and first["packages"]["data"] == keys["data"]
    assert keys["data"] == new["packages"]["data"]["key"]
    assert keys["python-env"] == new["environment-key"]
    data = Path(json.loads((home / "envs" / "app.json").read_text())["packages"]["data"]["path"])
    assert (data / "out.txt").read_text() == "made"


def test_a_step_s_own_environment_can_differ_and_a_mirror_carries_it(tmp_path: Path) -> None:
    """libb caps dep below 2, so the project's environment gets dep 1.0 while the data
    step's minimal environment (liba only) gets dep 2.0: both are locked, a mirror made from
    the lock carries both, and an offline install from that mirror builds both."""
    index = _write_index(
        tmp_path,
        {
            "python": PYTHON,
            "liba": _library("liba", "liba==1.0"),
            "libb": _library("libb", "libb==1.0"),
            "data": _generated("data", "dataset", ("liba", "python")),
            "app": _recipe("app", "app", RUN, ("data", "liba", "libb")),
        },
    )
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "liba", "1.0", "", requires=("dep",))
    build_wheel(wheels, "libb", "1.0", "", requires=("dep<2",))
    build_wheel(wheels, "dep", "1.0", "")
    build_wheel(wheels, "dep", "2.0", "")
    (tmp_path / "project").mkdir()
    project = _project(tmp_path / "project", ["app"], index)
    target = _lock(project, tmp_path / "home", wheels)["targets"]["cpu"]
    assert {w["name"]: w["version"] for w in target["wheels"]}["dep"] == "1.0"
    assert {w["name"]: w["version"] for w in target["tool-wheels"]["data"]}["dep"] == "2.0"

    mirror = tmp_path / "mirror"
    made = cmpkg(project, tmp_path / "home", "mirror", "create", str(mirror),
                 "--find-links", str(wheels), "--no-index")  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert (mirror / "wheels" / "dep-2.0-py3-none-any.whl").is_file()
    fresh = tmp_path / "fresh"
    done = cmpkg(project, fresh, "install", "--frozen", "--mirror", str(mirror), "--offline")
    assert done.returncode == 0, done.stderr
