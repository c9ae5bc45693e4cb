"""Ctrl-C during the installer step (RELIABILITY C.16): the installer process is stopped,
the half-built entry rolled back, and cmpkg exits 130 with one line, no traceback.

The installer is held in its step by a real loopback server that answers its request for
the find-links page one byte every half second (so no read timeout of the installer ever
ends the wait); the test waits for that request (a condition, not a sleep) before sending
SIGINT to cmpkg alone, so cmpkg itself must stop the installer. Before cmpkg stopped its
children, it waited for the installer (here: for days) and this test hit its hang guard.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cmpkg.store import Store
from tests.support.httpserver import Fault, FaultServer

INDEX = Path(__file__).parents[1] / "resolve" / "index"
pytestmark = pytest.mark.slow


def _wait_for(condition: object, proc: subprocess.Popen[str], seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the installer never asked the server"
        time.sleep(0.05)


def _processes_mentioning(text: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
        if text in cmdline:
            found.append(cmdline)
    return found


def test_ctrl_c_during_the_installer_step_stops_it_and_rolls_back(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with FaultServer() as server:
        server.serve("/links/", b"<html>" + b" " * 200_000 + b"</html>")
        server.fail("/links/", Fault(trickle=(1, 0.5)), times=10)  # a page that never ends
        argv = [sys.executable, "-m", "cmpkg", "install", "app", "--index", str(INDEX)]
        argv += ["--target", "cpu", "--no-index", "--find-links", server.url("/links/")]
        env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1"}
        proc = subprocess.Popen(
            argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            _wait_for(lambda: server.hits("/links/") > 0, proc)
            proc.send_signal(signal.SIGINT)
            sent = time.monotonic()
            _out, err = proc.communicate(timeout=120)  # a hang guard, not a time assertion
            print(f"exited {time.monotonic() - sent:.2f}s after SIGINT")  # reported only
        finally:
            proc.kill()
    assert proc.returncode == 130, err
    assert err.splitlines()[-1] == "error: interrupted; nothing half-done was kept"
    assert "Traceback" not in err
    assert _processes_mentioning(str(home)) == []  # the installer is gone too
    store = Store(home)
    assert list((store.base / "tmp").iterdir()) == []  # the half-built entry: rolled back
    assert not (home / "envs" / "app.json").exists()
