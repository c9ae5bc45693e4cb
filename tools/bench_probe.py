"""Measure the hardware probe: median of N runs (docs/targets.md quotes its output).

    python tools/bench_probe.py [-n 20] [--json]

Three numbers, because they answer different questions:
  cold    `probe_host()` timed inside a fresh interpreter (its lazy imports of archspec,
          packaging.tags, pynvml and the first archspec detection included): what a command pays;
  warm    `probe_host()` repeated in one process (archspec caches its host detection);
  cli     wall time of `python -m cmpkg target show --json` as a subprocess, interpreter start
          and imports included: what a user waits for.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
COLD = (
    "import time; t = time.perf_counter(); from cmpkg.probe import probe_host; "
    "target = probe_host(); print(time.perf_counter() - t)"
)


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT)}


def cold(runs: int) -> list[float]:
    command = [sys.executable, "-c", COLD]
    return [float(_run(command).strip().splitlines()[-1]) for _ in range(runs)]


def warm(runs: int) -> list[float]:
    sys.path.insert(0, str(ROOT))
    from cmpkg.probe import probe_host

    probe_host()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        probe_host()
        times.append(time.perf_counter() - start)
    return times


def cli(runs: int) -> list[float]:
    command = [sys.executable, "-m", "cmpkg", "target", "show", "--json"]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        _run(command)
        times.append(time.perf_counter() - start)
    return times


def _run(command: list[str]) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), cwd=ROOT, check=True)
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("-n", "--runs", type=int, default=20)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    medians = {
        name: statistics.median(measure(args.runs)) * 1000
        for name, measure in (("cold", cold), ("warm", warm), ("cli", cli))
    }
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    if args.json:
        print(json.dumps({"runs": args.runs, "machine": machine, "median_ms": medians}))
        return 0
    print(f"{machine}; median of {args.runs} runs")
    for name, value in medians.items():
        print(f"  {name:5} {value:8.1f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
