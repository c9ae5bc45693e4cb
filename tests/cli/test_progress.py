"""Progress on long work (cmpkg/status.py): drawn on a terminal's stderr only, never on
stdout, never under `--json`, plain with NO_COLOR; message lines always whole."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from tests.install.wheels import demo_project
from tests.support.terminal import on_terminal

ROOT = Path(__file__).parents[2]


def _env(home: Path, **extra: str) -> dict[str, str]:
    dropped = ("CMPKG_OVERRIDE_CUDA", "CMPKG_NO_PROGRESS", "NO_COLOR", "TERM")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    return {**env, "CMPKG_HOME": str(home), "PYTHONPATH": str(ROOT), **extra}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two targets over the small test index, whose app needs one local Python wheel."""
    return demo_project(tmp_path_factory.mktemp("project"), versions=("2.0",))


def _lock(project: Path, home: Path, *extra: str, **env: str) -> tuple[int, str, str]:
    argv = [sys.executable, "-m", "cmpkg", "lock", "--find-links", str(project / "wheels")]
    return on_terminal([*argv, "--no-index", *extra], _env(home, **env), cwd=project)


def test_lock_shows_each_target_on_a_terminal_and_nothing_under_json(
    project: Path, tmp_path: Path
) -> None:
    code, out, terminal = _lock(project, tmp_path / "home")
    assert code == 0, terminal
    for target in ("cpu", "h200-cuda13"):
        assert f"\rlocking {target}: solving" in terminal
        assert f"locking {target}: resolving wheels of " in terminal
    assert "\x1b[K" in terminal and "locking" not in out  # a redrawn line, on stderr only

    code, out, terminal = _lock(project, tmp_path / "home2", "--json")
    assert code == 0, terminal
    assert json.loads(out) and "locking" not in out and "\r" not in out
    assert "locking" not in terminal and "\r" not in terminal


def test_no_color_draws_without_escape_codes(project: Path, tmp_path: Path) -> None:
    code, _out, terminal = _lock(project, tmp_path / "home", NO_COLOR="1")
    assert code == 0, terminal
    assert "\rlocking cpu: solving" in terminal and "\x1b" not in terminal


def test_no_progress_draws_nothing(project: Path, tmp_path: Path) -> None:
    code, _out, terminal = _lock(project, tmp_path / "home", CMPKG_NO_PROGRESS="1")
    assert code == 0, terminal
    assert "locking" not in terminal and "\r" not in terminal


PARALLEL_LINES = """
import sys, threading
from cmpkg import console, status

def worker(n):
    for i in range(200):
        console.info(f"build pkg{n}-{i} 1.0")

with status.activity("installing 3 wheels into env"):
    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
"""


def test_parallel_lines_are_whole_and_never_share_the_status_line(tmp_path: Path) -> None:
    argv = [sys.executable, "-c", PARALLEL_LINES]
    code, _out, terminal = on_terminal(argv, _env(tmp_path, NO_COLOR="1"), cwd=tmp_path)
    assert code == 0, terminal
    wanted = {f"build pkg{n}-{i} 1.0" for n in range(8) for i in range(200)}
    lines = terminal.split("\n")
    # Each message line, once the status line's clearing (`\r`, spaces, `\r`) before it is
    # taken off, is exactly one whole message: none ran into another or into the status.
    got = [line.rsplit("\r", 1)[-1] for line in lines[:-1]]
    assert sorted(got) == sorted(wanted)
    assert "installing 3 wheels into env … " in terminal


INSTALL = """
import sys
from pathlib import Path
from cmpkg import pyenv
from cmpkg.wheels import WheelSource, host_platform, resolve_wheels

links, home, root = map(Path, sys.argv[1:])
source = WheelSource((str(links),), (), no_index=True)
version = f"{sys.version_info.major}.{sys.version_info.minor}"
wheels = resolve_wheels(["rt"], (), host_platform(sys.executable, version), source, home)
pyenv.create(root, sys.executable)
pyenv.install(root, wheels, source, home)
"""


def test_the_installer_step_shows_what_it_installs_where(project: Path, tmp_path: Path) -> None:
    paths = [str(project / "wheels"), str(tmp_path / "home"), str(tmp_path / "python-env")]
    argv = [sys.executable, "-c", INSTALL, *paths]
    code, out, terminal = on_terminal(argv, _env(tmp_path / "home"), cwd=tmp_path)
    assert code == 0, terminal
    assert "\rinstalling 1 wheel into python-env … " in terminal and out == ""


def test_mirror_create_shows_its_downloads(project: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    code, _out, terminal = _lock(project, home, CMPKG_NO_PROGRESS="1")
    assert code == 0, terminal
    links = ("--find-links", str(project / "wheels"), "--no-index", "--target", "cpu")
    argv = [sys.executable, "-m", "cmpkg", "mirror", "create", str(tmp_path / "m"), *links]
    code, out, terminal = on_terminal(argv, _env(home), cwd=project)
    assert code == 0, terminal
    assert "\rmirror: downloading 1 wheel for cpu … " in terminal and out == ""
