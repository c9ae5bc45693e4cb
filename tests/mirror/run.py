"""Running the cmpkg CLI in a subprocess with its own CMPKG_HOME (for the mirror tests)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


def cmpkg(
    cwd: Path, home: Path, *args: str, netns: bool = False, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", **(extra_env or {})}
    prefix = ["unshare", "-n"] if netns else []
    argv = [*prefix, sys.executable, "-m", "cmpkg", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def can_unshare() -> bool:
    return subprocess.run(["unshare", "-n", "true"], check=False).returncode == 0


@contextlib.contextmanager
def mirror_serve(directory: Path) -> Iterator[str]:
    """`cmpkg mirror serve DIR --port 0` running; yields its URL."""
    serve = subprocess.Popen(
        [sys.executable, "-m", "cmpkg", "mirror", "serve", str(directory), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert serve.stderr is not None
        line = serve.stderr.readline()
        yield line.split(" at ")[1].split()[0]
    finally:
        serve.terminate()
        serve.wait()
