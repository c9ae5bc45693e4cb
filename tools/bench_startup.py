"""Issue #14's start-up tables as ratios from one interleaved run (a script, not a test).

    python tools/bench_startup.py [--repeat 21] [--home DIR] [--sizes 1000,5000,50000]
                                  [--python PY]

Every row of a table runs once per round, rounds repeated (A B C A B C ...), so drift on a
shared machine hits every row alike. Reported per row: CPU time (user + system of the child,
from `wait4`) and wall time, each as minimum and median, and the ratio of each to the
table's anchor (its first row). Tables:

* start-up: `python -c pass` (anchor), `cmpkg --version`, a no-op `cmpkg install
  mlperf-resnet50 --target cpu`, `cmpkg resolve mlperf-resnet50 --target cpu`, and
  `python -m solvers solve` on a one-package problem;
* index size: the same no-op install with the shipped 41 recipes (anchor) and with synthetic
  recipes stacked on them (`--index`, written by tools/gen_index.py);
* run: the app's `--help` run directly in its environment (anchor; the environment as
  `cmpkg env mlperf-resnet50 --export json` gives it), through `cmpkg run`, and `python -c
  pass` in cmpkg's interpreter, with the difference of the medians and of the minimums in
  ms (the goal: <= 40 ms) and the part of it that is not starting cmpkg's interpreter;
  then `python -c pass` as the app, directly and through `cmpkg run` of the same
  environment (a record `bench-run-probe` written into the home for the run, then
  removed), whose difference is cmpkg's part without the app's noise.

Needs `mlperf-resnet50` installed for `--target cpu` in `--home` (CMPKG_HOME; default: the
current one). Each stacked size is run once before timing, so its resolution memo and
compiled index exist (a no-op is what is measured); that first run parses every synthetic
recipe (about 30 s for 50,000 here). `--indexes DIR` keeps the generated indexes for reuse.
Byte-code writing is left on (unset PYTHONDONTWRITEBYTECODE), as for a user. `--python`
names the interpreter cmpkg is installed in (default: the one running this script): a
developer's editable install runs setuptools' editable-finder hook at every start (about 15
ms here), which inflates both the anchor and `cmpkg run`'s own start; a venv with cmpkg
installed as a user installs it (`uv pip install .`) has no such hook.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from gen_index import write as write_index

NOOP_WORDS = ["install", "mlperf-resnet50", "--target", "cpu"]


def run(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(CPU seconds of the child, wall seconds); the command must succeed."""
    started = time.perf_counter()
    child = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        err = child.stderr.read().decode() if child.stderr else ""
        raise SystemExit(f"{' '.join(argv)} failed ({child.returncode}):\n{err}")
    if child.stderr:
        child.stderr.close()
    return usage.ru_utime + usage.ru_stime, wall


def interleaved(
    rows: list[tuple[str, list[str]]], repeat: int, env: dict[str, str]
) -> dict[str, tuple[list[float], list[float]]]:
    """Each row once per round, `repeat` rounds, after one untimed warm-up round."""
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, _ in rows}
    for round_ in range(repeat + 1):
        for label, argv in rows:
            cpu, wall = run(argv, env)
            if round_:
                times[label][0].append(cpu)
                times[label][1].append(wall)
    return times


def table(title: str, times: dict[str, tuple[list[float], list[float]]], repeat: int) -> str:
    anchor_label = next(iter(times))
    a_cpu, a_wall = times[anchor_label]
    lines = [
        f"{title} ({repeat} interleaved rounds; ratios to `{anchor_label}`)",
        "",
        "| command | CPU min ms | CPU median ms | CPU ratio (min / median) "
        "| wall min ms | wall median ms | wall ratio (min / median) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for label, (cpu, wall) in times.items():
        cells = [
            f"{1000 * min(cpu):.0f}",
            f"{1000 * statistics.median(cpu):.0f}",
            _ratios(cpu, a_cpu),
            f"{1000 * min(wall):.0f}",
            f"{1000 * statistics.median(wall):.0f}",
            _ratios(wall, a_wall),
        ]
        lines.append(f"| `{label}` | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratios(values: list[float], anchor: list[float]) -> str:
    low = min(values) / min(anchor)
    mid = statistics.median(values) / statistics.median(anchor)
    return f"{low:.2f}x / {mid:.2f}x"


def trivial_problem(directory: Path) -> Path:
    path = directory / "trivial.json"
    problem = {
        "format": "solvers-problem/1",
        "packages": {"a": [{"version": "1.0"}]},
        "requests": [["a", ""]],
    }
    path.write_text(json.dumps(problem))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--home", type=Path, default=None, help="CMPKG_HOME to use")
    parser.add_argument("--sizes", default="1000,5000,50000", help="stacked recipe counts")
    parser.add_argument("--only", choices=["startup", "index", "run"], default=None)
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="the interpreter cmpkg is installed in, and of the `python -c pass` anchor "
        "(default: this one; a non-editable install has no editable-finder hook to start)",
    )
    parser.add_argument(
        "--indexes", type=Path, default=None, help="keep the generated indexes here (reused)"
    )
    args = parser.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if args.home is not None:
        env["CMPKG_HOME"] = str(args.home)
    py = args.python
    cmpkg = [py, "-m", "cmpkg"]
    noop = [*cmpkg, *NOOP_WORDS]
    with tempfile.TemporaryDirectory(prefix="bench-startup-") as tmp:
        work = Path(tmp)
        if args.only in (None, "startup"):
            rows = [
                ("python -c pass", [py, "-c", "pass"]),
                ("cmpkg --version", [*cmpkg, "--version"]),
                ("no-op cmpkg install mlperf-resnet50 --target cpu", noop),
                (
                    "cmpkg resolve mlperf-resnet50 --target cpu",
                    [*cmpkg, "resolve", "mlperf-resnet50", "--target", "cpu"],
                ),
                (
                    "python -m solvers solve (1 package)",
                    [py, "-m", "solvers", "solve", str(trivial_problem(work))],
                ),
            ]
            print(table("Start-up", interleaved(rows, args.repeat, env), args.repeat))
            print()
        if args.only in (None, "index"):
            rows = [("no-op install, 41 recipes", noop)]
            for size in [int(s) for s in args.sizes.split(",") if s]:
                directory = (args.indexes or work) / f"index-{size}"
                if not directory.is_dir():
                    write_index(directory, size)
                # Its own environment name: installing one environment from two command
                # lines rewrites its record each time, and neither would be a no-op.
                stacked = [*noop, "--index", str(directory), "--env", f"bench-index-{size}"]
                rows.append((f"no-op install, 41 + {size:,} recipes", stacked))
            print(table("Index size", interleaved(rows, args.repeat, env), args.repeat))
            print()
        if args.only in (None, "run"):
            print(run_overhead(py, env, args.repeat))
    return 0


def run_overhead(py: str, env: dict[str, str], repeat: int) -> str:
    """The run table, and what `cmpkg run` adds to the app's own start; the anchor is the
    app run directly, and `python -c pass` (cmpkg's interpreter) shows how much of the
    difference is only starting a second Python. The app's start varies by tens of ms on
    a loaded machine, so the same environment is also run with `python -c pass` as its
    app (a copy of its record under another name, removed afterwards): the difference of
    those two rows is cmpkg's part alone."""
    done = subprocess.run(
        [py, "-m", "cmpkg", "env", "mlperf-resnet50", "--export", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    app_env = dict(env)
    for key, value in json.loads(done.stdout).items():
        prepend = key in ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH") and app_env.get(key)
        app_env[key] = value + os.pathsep + app_env[key] if prepend else value
    app_env.setdefault("PYTHONDONTWRITEBYTECODE", "1")  # as `cmpkg run` sets it
    rows = [
        (
            "python -m mlperf_resnet50 --help (directly)",
            ["python", "-m", "mlperf_resnet50", "--help"],
            app_env,
        ),
        (
            "cmpkg run mlperf-resnet50 -- --help",
            [py, "-m", "cmpkg", "run", "mlperf-resnet50", "--", "--help"],
            env,
        ),
        ("python -c pass (cmpkg's interpreter)", [py, "-c", "pass"], env),
        ("python -c pass (directly in the environment)", ["python", "-c", "pass"], app_env),
        (
            f"cmpkg run {PROBE} (app: python -c pass)",
            [py, "-m", "cmpkg", "run", PROBE],
            env,
        ),
    ]
    times: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label, *_ in rows}
    with probe_record(py, env):
        for round_ in range(repeat + 1):
            for label, argv, use in rows:
                cpu, wall = run(argv, use)
                if round_:
                    times[label][0].append(cpu)
                    times[label][1].append(wall)
    (d_cpu, d_wall), (t_cpu, t_wall), (p_cpu, _), (e_cpu, e_wall), (r_cpu, r_wall) = times.values()
    note = f"\n\n`cmpkg run` overhead: CPU {_less(t_cpu, d_cpu)}, wall {_less(t_wall, d_wall)}"
    own = 1000 * (statistics.median(t_cpu) - statistics.median(d_cpu) - statistics.median(p_cpu))
    note += f"; CPU beyond starting its interpreter: {own:.0f} ms median"
    note += f"\n\nwith `python -c pass` as the app: CPU {_less(r_cpu, e_cpu)}, wall"
    note += f" {_less(r_wall, e_wall)}"
    return table("Run", times, repeat) + note


PROBE = "bench-run-probe"


def _less(values: list[float], anchor: list[float]) -> str:
    median = statistics.median(values) - statistics.median(anchor)
    return f"{1000 * median:.0f} ms median / {1000 * (min(values) - min(anchor)):.0f} ms min"


@contextlib.contextmanager
def probe_record(py: str, env: dict[str, str]) -> Iterator[None]:
    """`envs/bench-run-probe.json` in the home: mlperf-resnet50's record (the same entries to
    check, the same variables) with `python -c pass` as its run command."""
    done = subprocess.run(
        [py, "-c", "from cmpkg.config import home; print(home())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    envs = Path(done.stdout.strip()) / "envs"
    record = json.loads((envs / "mlperf-resnet50.json").read_text())
    record.update(name=PROBE, run=["python", "-c", "pass"], apps={})
    path = envs / f"{PROBE}.json"
    path.write_text(json.dumps(record))
    try:
        yield
    finally:
        path.unlink()


if __name__ == "__main__":
    sys.exit(main())
