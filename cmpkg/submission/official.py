"""`submission check --official`: MLCommons' own checker, installed as a cmpkg package.

The checker is `tools/submission/submission_checker/main.py` of the `mlperf-inference-source`
package (the mlcommons/inference tree at the round's tag), run with that environment's
Python (which has the checker's own dependency, PyYAML) in a scratch directory, because it
writes `summary.csv` where it runs. Its verdict is its exit code and its log: the lines it
logs as errors and its `SUMMARY:` line, shown as it wrote them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import CmpkgError

PACKAGE = "mlperf-inference-source"
CHECKER = Path("tools", "submission", "submission_checker", "main.py")


@dataclass(frozen=True)
class Verdict:
    code: int
    errors: tuple[str, ...]
    summary: str | None
    log: str


def parse_log(text: str) -> tuple[tuple[str, ...], str | None]:
    """The checker's error lines and its last `SUMMARY:` line (pure)."""
    lines = text.splitlines()
    errors = tuple(line for line in lines if line.startswith("ERROR") or _logged_error(line))
    summaries = [line for line in lines if "SUMMARY:" in line]
    return errors, (summaries[-1].split("SUMMARY:", 1)[1].strip() if summaries else None)


def run(home: Path, env_name: str, tree: Path, round_name: str) -> Verdict:
    from cmpkg import envs

    try:
        record = envs.load(home, env_name)
    except CmpkgError:
        raise CmpkgError(
            "no-official-checker",
            f"no environment {env_name!r} with the official checker",
            hint=f"install it: `cmpkg install {PACKAGE} --with {PACKAGE}.path=DIR` "
            "(DIR: mlcommons/inference at the round's tag)",
        ) from None
    source = Path(record.packages.get(PACKAGE, {}).get("path", ""))
    if not (source / CHECKER).is_file():
        raise CmpkgError("no-official-checker", f"{source / CHECKER} is missing")
    environ = envs.run_environment(record, os.environ)
    python = shutil.which("python", path=environ.get("PATH")) or sys.executable
    argv = [python, str(source / CHECKER), "--input", str(tree.absolute())]
    argv += ["--version", round_name]
    with tempfile.TemporaryDirectory(prefix="cmpkg-checker-") as scratch:
        done = subprocess.run(
            argv, cwd=scratch, env=environ, capture_output=True, text=True, check=False
        )
    log = done.stdout + done.stderr
    errors, summary = parse_log(log)
    return Verdict(done.returncode, errors, summary, log)


def _logged_error(line: str) -> bool:
    """An error in the checker's own log formats (`... ERROR] msg` from its loader)."""
    return " ERROR " in line or " ERROR]" in line
