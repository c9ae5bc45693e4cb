"""The no-op fast path of `cmpkg install` (`cmpkg.commands.noop`): taken when nothing changed,
never when something did.

Which path answered is read from `python -X importtime`: the full path imports the resolver
(`cmpkg.resolve`), the fast path must not. A wrong fast answer shows as a missing import
where an input changed, or as "already installed" over a tampered entry.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel
from tests.test_import_budget import import_times, ours

INDEX = Path(__file__).parents[1] / "resolve" / "index"
#: What the full path needs and a no-op answered from the record must not import.
FULL_ONLY = {
    "cmpkg.resolve",
    "cmpkg.plan",
    "cmpkg.cli.render",
    "cmpkg.commands.install",
    "cmpkg.commands.resolve",
    "cmpkg.probe",
    "cmpkg.probe.nvidia",
    "cmpkg.lock",
    "cmpkg.index.model",
}


class Project:
    def __init__(self, tmp_path: Path) -> None:
        self.index = tmp_path / "index"
        shutil.copytree(INDEX, self.index)
        self.wheels = tmp_path / "wheels"
        self.wheels.mkdir()
        build_wheel(self.wheels, "rt", "2.0", "VERSION = '2.0'\n")
        self.env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
        self.env.pop("CMPKG_OVERRIDE_GLIBC", None)

    def argv(self, request: str = "app") -> list[str]:
        argv = ["-m", "cmpkg", "install", request, "--index", str(self.index)]
        return [*argv, "--target", "cpu", "--find-links", str(self.wheels), "--no-index", "--json"]

    def install(self, request: str = "app") -> dict[str, object]:
        done = subprocess.run(
            [sys.executable, *self.argv(request)], capture_output=True, text=True, env=self.env
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return dict(json.loads(done.stdout))

    def fast(self, request: str = "app") -> bool:
        """Install again; whether the fast path answered (and it built nothing)."""
        times = import_times(self.argv(request), self.env)
        assert self.install(request)["built"] == 0
        answered = not ours(times) & FULL_ONLY
        # A fast answer comes before any parser is built (`install_cmds.direct_noop`): the
        # tamper tests below prove that this path, too, refuses a changed entry.
        assert not answered or "argparse" not in times, "answered through the parser"
        return answered


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = Project(tmp_path)
    made.install()
    return made


@pytest.mark.slow
def test_a_no_op_answers_from_the_record_and_every_change_takes_the_full_path(
    project: Project,
) -> None:
    first = project.install()
    assert project.fast()
    assert project.install() == first  # the same answer as the full path gave

    recipe = project.index / "app" / "model.toml"  # a dependency's recipe, not the root's
    recipe.write_text(recipe.read_text() + "\n# edited\n")
    assert not project.fast()
    assert project.fast()  # the full path recorded the new inputs

    project.env["CMPKG_OVERRIDE_GLIBC"] = "2.99"  # a changed fact
    assert not project.fast()
    assert project.fast()

    assert not project.fast("app[device=cpu]")  # a changed request
    # Each command line has its own record, but that install rewrote the environment `app`
    # that this one's record vouches for: the full path again, then fast.
    assert not project.fast()
    assert project.fast()


@pytest.mark.slow
def test_a_tampered_entry_is_reported_not_answered(project: Project) -> None:
    assert project.fast()
    env_record = json.loads((Path(project.env["CMPKG_HOME"]) / "envs" / "app.json").read_text())
    venv = Path(env_record["packages"]["python-env"]["path"])
    target = next(venv.rglob("rt*.py"))
    before = target.stat()
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"2.0", b"6.6"))  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    done = subprocess.run(
        [sys.executable, *project.argv()], capture_output=True, text=True, env=project.env
    )
    assert done.returncode == 1
    assert "entry-modified" in done.stderr and target.name in done.stderr


EXTRA_LIB = """name = "extra"
version = "1.0"
kind = "library"
tags = ["lib", "extra"]
summary = "a second library"
license = "MIT"
homepage = "https://example.org/extra"
depends = ["python >=3.10"]

[provide]
method = "python"
requirements = ["extra==1.0"]
"""
SECOND_APP = """name = "app2"
version = "1.0"
kind = "app"
tags = ["app", "second"]
summary = "a second app sharing rt's wheel"
license = "MIT"
homepage = "https://example.org/app2"
depends = ["rt", "extra"]
run = ["python", "-c", "print('hi')"]
"""


def venv_file(project: Project, env: str, name: str) -> Path:
    record = json.loads((Path(project.env["CMPKG_HOME"]) / "envs" / f"{env}.json").read_text())
    return next(Path(record["packages"]["python-env"]["path"]).rglob(name))


def second_environment(project: Project) -> None:
    """`app2`: another environment (rt and extra), so uv links rt's files a second time."""
    (project.index / "libs" / "extra.toml").write_text(EXTRA_LIB)
    (project.index / "app" / "app2.toml").write_text(SECOND_APP)
    build_wheel(project.wheels, "extra", "1.0", "E = 1\n")
    project.install("app")  # the index changed: the full path, once
    project.install("app2")


@pytest.mark.slow
def test_two_environments_share_a_wheel_and_each_no_op_is_fast_after_one_re_stamp(
    project: Project,
) -> None:
    second_environment(project)
    first, second = venv_file(project, "app", "rt.py"), venv_file(project, "app2", "rt.py")
    assert first.stat().st_ino == second.stat().st_ino  # one file, no copy
    assert not project.fast()  # the new link moved the ctime: re-hashed, then re-stamped
    assert project.fast()
    assert project.fast("app2")


@pytest.mark.slow
@pytest.mark.parametrize("through", ["app", "app2"])
def test_an_edit_of_a_shared_file_through_either_link_is_refused(
    project: Project, through: str
) -> None:
    second_environment(project)
    target = venv_file(project, through, "rt.py")
    before = target.stat()
    target.chmod(0o644)
    target.write_bytes(target.read_bytes().replace(b"2.0", b"6.6"))  # same size
    os.utime(target, ns=(before.st_atime_ns, before.st_mtime_ns))
    for env in ("app", "app2"):
        done = subprocess.run(
            [sys.executable, *project.argv(env)], capture_output=True, text=True, env=project.env
        )
        assert done.returncode == 1, done.stdout
        assert "entry-modified" in done.stderr and "rt.py" in done.stderr


GEN_LIB = """name = "gen"
version = "1.0"
kind = "library"
tags = ["gen"]
summary = "what the data generator imports"
license = "MIT"
homepage = "https://example.org"
depends = ["python >=3.10"]

[provide]
method = "python"
requirements = ["gen==1.0"]
"""
DATA = """name = "data"
version = "1"
kind = "dataset"
tags = ["data"]
summary = "generated in its own tool environment (gen only)"
license = "MIT"
homepage = "https://example.org"
depends = ["gen"]

[env]
DATA = "${entry}/data.txt"

[provide]
method = "generate"
script = "make.py"
args = ["--out", "${entry}"]
"""
MAKE = """import pathlib, sys, gen
pathlib.Path(sys.argv[2], "data.txt").write_text(gen.VERSION)
"""


@pytest.mark.slow
def test_a_tool_environment_is_a_build_input_the_full_path_still_checks(
    tmp_path: Path,
) -> None:
    """The no-op and `cmpkg run` check what the environment runs; an edited tool
    environment (where a generate step ran) is refused by any install that takes the full
    path, which checks every entry it reuses (RELIABILITY A.4)."""
    made = Project(tmp_path)
    build_wheel(made.wheels, "gen", "1.0", "VERSION = 'gen 1.0'\n")
    (made.index / "data").mkdir()
    (made.index / "data" / "gen.toml").write_text(GEN_LIB)
    (made.index / "data" / "data.toml").write_text(DATA)
    (made.index / "data" / "make.py").write_text(MAKE)
    app = made.index / "app" / "app.toml"
    app.write_text(app.read_text().replace('{ tags = ["model", "tiny"] },', '"data",'))
    made.install()
    made.install()  # the two venvs' shared (hard-linked) files moved stamps: re-stamped once
    assert made.fast()
    home = Path(made.env["CMPKG_HOME"])
    record = json.loads((home / "envs" / "app.json").read_text())
    tool = record["packages"]["python-env:data"]["key"]
    assert tool not in record["runtime"] and tool in record["keys"]  # still a gc root
    assert record["packages"]["python-env"]["key"] in record["runtime"]

    # A file added to the tool environment's own site-packages (its wheel files are hard
    # links shared with the main environment, where an edit would show too).
    site = next(Path(record["packages"]["python-env:data"]["path"]).rglob("site-packages"))
    mode = site.stat().st_mode
    site.chmod(0o755)
    (site / "zz-evil.pth").write_text("import os\n")
    site.chmod(mode)
    assert made.fast()  # the environment itself is intact: answered from the record
    ran = subprocess.run(
        [sys.executable, "-m", "cmpkg", "run", "app"], capture_output=True, text=True, env=made.env
    )
    assert ran.returncode == 0 and ran.stdout.strip() == "hi", ran.stderr
    verify = subprocess.run(
        [sys.executable, "-m", "cmpkg", "cache", "verify"],
        capture_output=True,
        text=True,
        env=made.env,
    )
    assert verify.returncode != 0 and "zz-evil.pth" in verify.stdout + verify.stderr
    # Another command line takes the full path, which reuses the tool environment: refused.
    argv = [*made.argv("app[device=cpu]")]
    full = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=made.env)
    assert full.returncode == 1
    assert "entry-modified" in full.stderr and "zz-evil.pth" in full.stderr
