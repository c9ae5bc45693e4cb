"""`cmpkg cache push --lock` pushes the whole build closure of a frozen install, the tool
environment of a `generate` step included (the lock records its wheels, not its key), so a
home that installs the lock `--frozen` from the cache builds nothing. That home pulls only
what the environment runs: the tool environment is a build input, pulled only when the step
that runs in it must really be built (its product missing from the cache)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.cache.conftest import cmpkg, install_args, trusting
from tests.install.wheels import TEST_INDEX, build_wheel
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.slow

GEN = """name = "gen"
version = "1.0"
kind = "dataset"
tags = ["dataset", "generated"]
summary = "data made by a script that imports rt"
license = "MIT"
homepage = "https://example.org/gen"
depends = ["rt"]

[provide]
method = "generate"
script = "make.py"
args = ["--out", "${entry}"]
"""
OTHER = """name = "other"
version = "1.0"
kind = "library"
tags = ["lib"]
summary = "a Python package the generate step does not need"
license = "MIT"
homepage = "https://example.org/other"
depends = ["python >=3.10"]

[provide]
method = "python"

[variants.flavour]
default = "plain"
[variants.flavour.plain]
python = ["other==1.0"]
"""
MAKE = """import pathlib, sys
import rt
pathlib.Path(sys.argv[2], "made.txt").write_text(f"rt {rt.VERSION}")
"""


def _project(root: Path) -> Path:
    """A project of `gen` and `other`: the environment holds both wheels, so the tool
    environment of gen's step (rt only) is an entry of its own."""
    index = root / "index" / "gen"
    index.mkdir(parents=True)
    (index / "gen.toml").write_text(GEN)
    (index / "make.py").write_text(MAKE)
    (root / "index" / "other").mkdir()
    (root / "index" / "other" / "other.toml").write_text(OTHER)
    project = root / "project"
    project.mkdir()
    dirs = json.dumps([str(TEST_INDEX), str(root / "index")])
    (project / "cmpkg.toml").write_text(
        "[project]\nname = 'gen-demo'\nrequests = ['gen', 'other']\ntargets = ['cpu']\n"
        f"index = {dirs}\n"
    )
    return project


def test_push_lock_pushes_the_tool_environments_so_frozen_builds_nothing(
    tmp_path: Path, oci: RunningRegistry, wheels: Path
) -> None:
    project, home_a = _project(tmp_path), tmp_path / "a" / "home"
    local = tmp_path / "wheels"
    shutil.copytree(wheels, local)
    build_wheel(local, "other", "1.0", "VERSION = '1.0'\n")
    links = install_args(local)[4:]  # --find-links DIR --no-index
    assert cmpkg(home_a, "lock", *links, cwd=project).returncode == 0
    built = cmpkg(home_a, "install", "--frozen", *links, "--json", cwd=project)
    assert built.returncode == 0, built.stderr
    public = json.loads(cmpkg(home_a, "key", "generate", "--json").stdout)["public"]
    url = oci.url("lock")
    pushed = cmpkg(home_a, "cache", "push", "--lock", "--to", url, "--json", cwd=project)
    assert pushed.returncode == 0, pushed.stderr

    home_b, config = tmp_path / "b" / "elsewhere" / "home", trusting(tmp_path / "c.toml", public)
    args = ("install", "--frozen", *links, "--cache", url, "--no-build", "--json")
    done = cmpkg(home_b, *args, cwd=project, config=config)
    assert done.returncode == 0, done.stderr  # --no-build: a missing tool env is an error
    result = json.loads(done.stdout)
    keys = json.loads(pushed.stdout)["pushed"]
    tool_env = _tool_env_key(home_a)
    assert tool_env in keys
    assert result["built"] == 0 and result["substituted"] == len(keys) - 1
    entries = home_b / "store-v1" / "entries"
    assert [p.read_text() for p in entries.glob("*/made.txt")] == ["rt 2.0"]
    assert not (entries / tool_env).exists()  # nothing needed it: never pulled

    # The product missing from a cache that has the rest: its step is built here, in the
    # tool environment pulled on demand.
    gen = next(p.parent.name for p in (home_a / "store-v1" / "entries").glob("*/made.txt"))
    partial = oci.url("partial")
    rest = [k for k in keys if k != gen]
    pushed = cmpkg(home_a, "cache", "push", *rest, "--to", partial, "--json", cwd=project)
    assert pushed.returncode == 0, pushed.stderr
    home_c = tmp_path / "c" / "home"
    args = ("install", "--frozen", *links, "--cache", partial, "--json")
    done = cmpkg(home_c, *args, cwd=project, config=config)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["built"] == 1 and result["substituted"] == len(rest)
    entries = home_c / "store-v1" / "entries"
    assert [p.read_text() for p in entries.glob("*/made.txt")] == ["rt 2.0"]
    assert (entries / tool_env).is_dir()


def _tool_env_key(home: Path) -> str:
    """The key of gen's tool environment: the one environment entry whose venv lacks `other`."""
    for entry in sorted((home / "store-v1" / "entries").iterdir()):
        venv = entry / "venv"
        if venv.is_dir() and not list(venv.glob("lib/python*/site-packages/other*")):
            return entry.name
    raise AssertionError("no tool environment in home A")
