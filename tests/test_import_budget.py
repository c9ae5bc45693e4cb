"""The import budget: which of cmpkg's modules a command imports, checked with `-X importtime`.

Start-up is most of a small command's cost, and it creeps: one convenient import at the top
of a module pulls the resolver (or the GPU probe) into every command. These tests fail when a
change adds a cmpkg module to `cmpkg --version` or to a no-op install, or when cmpkg's own
modules take a much larger share of the import time. No wall-clock assertion: the share is a
ratio of self times measured in the same process, so a loaded machine slows both sides, and
the margin is generous. To grow a budget on purpose, add the module here with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel

INDEX = Path(__file__).parent / "resolve" / "index"

#: `cmpkg --version` must stay at the interpreter's start-up plus the CLI's entry point
#: (the parser, its shared options and the error types it renders).
VERSION_BUDGET = {
    "cmpkg",
    "cmpkg.__main__",
    "cmpkg.cli",
    "cmpkg.cli.common",
    "cmpkg.cli.parser",
    "cmpkg.errors",
}

#: What a no-op `cmpkg install` may import: the entry point and the install command's module
#: (no parser: `direct_noop`), then the fast path's check of the recorded inputs
#: (`cmpkg.commands.noop`): the compiled index's scan and the store's stat sidecars, nothing
#: of the resolver, plan, renderer, lock, recipe model or GPU probe.
NOOP_BUDGET = (VERSION_BUDGET - {"cmpkg.cli.parser"}) | {
    "cmpkg.cli.install_cmds",
    "cmpkg.config",
    "cmpkg.console",
    "cmpkg.commands",
    "cmpkg.commands.noop",
    "cmpkg.envvars",
    "cmpkg.index",
    "cmpkg.index.compiled",
    "cmpkg.index.table",
    "cmpkg.sha256",
    "cmpkg.shipped",
    "cmpkg.status",
    "cmpkg.store",
    "cmpkg.store.fingerprint",
    "cmpkg.store.keys",
    "cmpkg.store.layout",
}

#: What `cmpkg run NAME` may import before and after the app: the record, the entries'
#: stat sidecars and locks, and the writing of its results record; no parser (it is
#: dispatched before argparse), no store build/gc machinery, no results database.
RUN_BUDGET = {
    "cmpkg",
    "cmpkg.__main__",
    "cmpkg.atomic",
    "cmpkg.cli",
    "cmpkg.cli.common",
    "cmpkg.cli.env_cmds",
    "cmpkg.commands",
    "cmpkg.commands.run",
    "cmpkg.config",
    "cmpkg.envs",
    "cmpkg.envvars",
    "cmpkg.errors",
    "cmpkg.paths",
    "cmpkg.project",
    "cmpkg.results",
    "cmpkg.results.capture",
    "cmpkg.results.database",
    "cmpkg.results.record",
    "cmpkg.store",
    "cmpkg.store.fingerprint",
    "cmpkg.store.holds",
    "cmpkg.store.keys",
    "cmpkg.store.layout",
    "cmpkg.store.locks",
}
#: Modules of the standard library and dependencies that `cmpkg run` must not import: each
#: cost it milliseconds measured (docs/benchmarks.md, "`cmpkg run` overhead").
RUN_NEVER = {
    "argparse",
    "dataclasses",
    "filelock",
    "hashlib",
    "inspect",
    "sqlite3",
    "subprocess",
    "uuid",
}

#: What `cmpkg --version` and a no-op install must not import: shutil (with bz2, lzma and
#: zlib: argparse's help formatter imports it for the terminal's width, which
#: `cmpkg.cli.parser.Formatter` reads itself), dataclasses (with inspect), subprocess.
NOOP_NEVER = {"dataclasses", "inspect", "shutil", "subprocess"}
#: ... and what the no-op alone must not: argparse (building the install parser cost 6-9 ms:
#: the command line is read by `install_cmds.direct_noop`), hashlib (OpenSSL's load: the
#: small digests it takes come from `cmpkg.sha256`).
NOOP_ALSO_NEVER = {"argparse", "hashlib"}

#: cmpkg's own modules' share of all import self time (theirs + the standard library's +
#: packaging's ...); measured 0.02-0.10 for --version and 0.18-0.27 for a no-op (answered
#: by the fast path) on 2 loaded cores, 2026-12-02; before the fast path a no-op was 0.45.
SHARE_MARGIN = {"version": 0.3, "noop": 0.4}


def import_times(argv: list[str], env: dict[str, str]) -> dict[str, int]:
    """Module -> self time in microseconds of one `python -X importtime` run of `argv`."""
    env = {**env, "PYTHONDONTWRITEBYTECODE": ""}
    env.pop("PYTHONDONTWRITEBYTECODE")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", *argv], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-2000:]
    times: dict[str, int] = {}
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line and "self [us]" not in line:
            self_us, _, name = line[len("import time:") :].split("|")
            times[name.strip()] = int(self_us)
    return times


def best_times(argv: list[str], env: dict[str, str], runs: int = 3) -> dict[str, int]:
    """Each module's least self time over `runs` runs: a loaded machine only ever adds time
    (a run descheduled inside one import inflates that module alone), so the least is the
    measure that a busy machine does not turn into a false failure of the share."""
    found = [import_times(argv, env) for _ in range(runs)]
    return {m: min(t.get(m, found[0][m]) for t in found) for m in found[0]}


def ours(times: dict[str, int]) -> set[str]:
    return {m for m in times if m == "cmpkg" or m.startswith("cmpkg.")}


def share(times: dict[str, int]) -> float:
    """cmpkg's modules' self time over all modules' (the editable-install hook excluded)."""
    total = sum(t for m, t in times.items() if "__editable__" not in m)
    return sum(times[m] for m in ours(times)) / max(total, 1)


def test_version_imports_only_the_entry_point() -> None:
    times = best_times(["-m", "cmpkg", "--version"], dict(os.environ))
    assert ours(times) <= VERSION_BUDGET, sorted(ours(times) - VERSION_BUDGET)
    assert share(times) < SHARE_MARGIN["version"]
    assert not NOOP_NEVER & set(times), sorted(NOOP_NEVER & set(times))


@pytest.mark.slow
def test_noop_install_stays_within_its_import_budget(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    build_wheel(wheels, "rt", "2.0", "VERSION = '2.0'\n")
    env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    argv = ["-m", "cmpkg", "install", "app", "--index", str(INDEX), "--target", "cpu"]
    argv += ["--find-links", str(wheels), "--no-index", "--json"]
    first = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-2000:]
    times = best_times(argv, env)
    assert ours(times) <= NOOP_BUDGET, sorted(ours(times) - NOOP_BUDGET)
    assert share(times) < SHARE_MARGIN["noop"]
    never = NOOP_NEVER | NOOP_ALSO_NEVER
    assert not never & set(times), sorted(never & set(times))
    again = subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env)
    assert json.loads(again.stdout)["built"] == 0


def test_run_imports_neither_a_parser_nor_the_results_database(tmp_path: Path) -> None:
    from cmpkg import envs

    home = tmp_path / "home"
    code = "import sys; sys.exit(0)"
    envs.save(
        home, envs.EnvRecord("probe-app", [], "cpu", {}, {}, run=[sys.executable, "-c", code])
    )
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1"}
    times = import_times(["-m", "cmpkg", "run", "probe-app", "--", "--flag"], env)
    assert ours(times) <= RUN_BUDGET, sorted(ours(times) - RUN_BUDGET)
    assert not RUN_NEVER & set(times), sorted(RUN_NEVER & set(times))
    assert list((home / "results" / "records").iterdir())  # it did run and record


#: What importing the probe must not import: the GPU readers' ctypes and subprocess (a
#: `--target cpu` probe reads no GPU source; tool detection answered from its cache runs
#: nothing). archspec imports both itself when the CPU is read, so this is checked on the
#: import alone.
PROBE_NEVER = {"ctypes", "subprocess"}


def test_the_probe_imports_no_gpu_reader() -> None:
    times = import_times(["-c", "import cmpkg.probe, cmpkg.probe.tools"], dict(os.environ))
    assert "cmpkg.probe.nvidia" in times
    assert not PROBE_NEVER & set(times), sorted(PROBE_NEVER & set(times))


def test_resolve_imports_no_close_name_suggester(tmp_path: Path) -> None:
    """`difflib` (with heapq) only for a request that names no package."""
    env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
    argv = ["-m", "cmpkg", "resolve", "app", "--index", str(INDEX), "--target", "cpu"]
    times = import_times(argv, env)
    assert "cmpkg.resolve" in times and "difflib" not in times
