"""Running the real `cmpkg` command line in a subprocess, with its own CMPKG_HOME."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

#: Facts a developer's shell may override; a test states its own or none.
OVERRIDES = ("CMPKG_OVERRIDE_CUDA", "CMPKG_OVERRIDE_CUDA_ARCH", "CMPKG_OVERRIDE_ARCH")


def run_cmpkg(
    cwd: Path, home: Path, *args: str, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in OVERRIDES}
    return subprocess.run(
        [sys.executable, "-m", "cmpkg", *args],
        capture_output=True,
        text=True,
        env={**base, "CMPKG_HOME": str(home), "NO_COLOR": "1", **(env or {})},
        cwd=cwd,
        check=False,
    )
