"""Resolving a Python environment's distributions for a target without installing them.

The I/O edge that asks pip (the installer cmpkg uses) which exact files it would install for
a target's Python version and platform tags: `pip install --dry-run --report` with
`--python-version`/`--platform`/`--only-binary=:all:`. A CPU lock and a CUDA lock of torch
therefore list different files. Used by `cmpkg lock` and `cmpkg mirror create`.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from cmpkg.lock import LockedWheel
from cmpkg.process import run_or_raise
from cmpkg.pyenv import WheelSource, parse_report


def pip_source_args(source: WheelSource, index_urls: Sequence[str]) -> list[str]:
    args = ["--no-index"] if source.no_index else []
    for link in source.find_links:
        args += ["--find-links", link]
    for url in (*source.index_urls, *index_urls):
        args += ["--extra-index-url", url]
    return args


def target_args(python: str, platforms: Sequence[str]) -> list[str]:
    """pip flags that make it choose files for another interpreter and platform."""
    if not platforms:
        return []
    args = ["--python-version", python, "--only-binary=:all:", "--implementation", "cp"]
    for tag in platforms:
        args += ["--platform", tag]
    return args


def resolve_wheels(
    requirements: Sequence[str],
    index_urls: Sequence[str],
    python: str,
    platforms: Sequence[str],
    source: WheelSource,
) -> tuple[LockedWheel, ...]:
    """The exact distributions pip would install, with URL and sha256."""
    if not requirements:
        return ()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        argv = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
        ]
        argv += ["--disable-pip-version-check", "--no-input", "--report", str(report)]
        argv += ["--target", str(Path(scratch) / "t"), *target_args(python, platforms)]
        argv += [*pip_source_args(source, index_urls), *requirements]
        run_or_raise(
            argv,
            "wheel-resolution-failed",
            f"pip cannot resolve the Python environment for Python {python}",
            hint="check the requirements above against this target's Python and platform",
        )
        records = parse_report(json.loads(report.read_text()))
    return tuple(LockedWheel(r["name"], r["version"], r["url"], r["sha256"]) for r in records)
