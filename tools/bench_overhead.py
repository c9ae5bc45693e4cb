"""Measure cmpkg's own overhead on an installed mlperf-resnet50 (issue goals in brackets):

* `cmpkg resolve mlperf-resnet50 --target cpu`, end to end       [< 300 ms]
* a no-op `cmpkg install mlperf-resnet50 --target cpu`            [< 150 ms]
* `cmpkg run` overhead: `cmpkg run mlperf-resnet50 -- --help` versus the same command run
  directly with the same environment (`cmpkg env mlperf-resnet50 --export json`) [< 100 ms]
* with --loadgen: the same LoadGen Offline run through `cmpkg run` and directly, samples/s
  [within 2%]

Prints a Markdown table of medians. Usage (after `cmpkg install mlperf-resnet50 --target cpu`):

    python tools/bench_overhead.py [--repeat 15] [--loadgen] [--loadgen-repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

CMPKG = [sys.executable, "-m", "cmpkg"]


def timed(argv: list[str], env: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    subprocess.run(argv, env=env, capture_output=True, check=True)
    return time.perf_counter() - started


def median_ms(
    argv: list[str], repeat: int, env: dict[str, str] | None = None
) -> tuple[float, float]:
    """(median, minimum) in ms: on a shared machine the minimum is the least disturbed run."""
    timed(argv, env)  # warm the page cache
    runs = [timed(argv, env) * 1000 for _ in range(repeat)]
    return statistics.median(runs), min(runs)


def app_environment() -> tuple[list[str], dict[str, str]]:
    """The app's command and environment, exactly as `cmpkg run` composes them."""
    done = subprocess.run(
        [*CMPKG, "env", "mlperf-resnet50", "--export", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    variables = json.loads(done.stdout)
    env = dict(os.environ)
    for key, value in variables.items():
        prepend = key in ("PATH", "PYTHONPATH", "LD_LIBRARY_PATH") and env.get(key)
        env[key] = value + os.pathsep + env[key] if prepend else value
    return ["python", "-m", "mlperf_resnet50"], env


def samples_per_second(argv: list[str], env: dict[str, str] | None) -> float:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    match = re.search(r"Samples per second\s*:\s*([0-9.]+)", done.stdout + done.stderr)
    if not match:
        raise SystemExit(f"no samples/s in the output of {argv}")
    return float(match.group(1))


def loadgen(repeat: int, command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Alternate runs through cmpkg and direct, so drift hits both alike."""
    through, direct = [], []
    with tempfile.TemporaryDirectory() as results:
        args = ["--scenario", "Offline", "--min-duration", "10000", "--count", "200"]
        for i in range(repeat):
            run_args = [*args, "--results-dir", f"{results}/c{i}"]
            through.append(
                samples_per_second([*CMPKG, "run", "mlperf-resnet50", "--", *run_args], None)
            )
            direct.append(
                samples_per_second([*command, *args, "--results-dir", f"{results}/d{i}"], env)
            )
    return statistics.median(through), statistics.median(direct)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--loadgen", action="store_true")
    parser.add_argument("--loadgen-repeat", type=int, default=3)
    args = parser.parse_args()
    command, env = app_environment()
    rows = [
        (
            "cmpkg resolve mlperf-resnet50 --target cpu",
            median_ms([*CMPKG, "resolve", "mlperf-resnet50", "--target", "cpu"], args.repeat),
        ),
        (
            "no-op cmpkg install mlperf-resnet50 --target cpu",
            median_ms([*CMPKG, "install", "mlperf-resnet50", "--target", "cpu"], args.repeat),
        ),
        (
            "cmpkg --version (interpreter start + CLI)",
            median_ms([*CMPKG, "--version"], args.repeat),
        ),
    ]
    through = median_ms([*CMPKG, "run", "mlperf-resnet50", "--", "--help"], args.repeat)
    direct = median_ms([*command, "--help"], args.repeat, env)
    overhead = (through[0] - direct[0], through[1] - direct[1])
    rows += [
        ("app --help through cmpkg run", through),
        ("app --help run directly", direct),
        ("cmpkg run overhead", overhead),
    ]
    print(f"| measurement ({args.repeat} runs) | median ms | min ms |\n| --- | ---: | ---: |")
    for label, (median, least) in rows:
        print(f"| {label} | {median:.0f} | {least:.0f} |")
    if args.loadgen:
        via, plain = loadgen(args.loadgen_repeat, command, env)
        print(
            f"\n| LoadGen Offline (median of {args.loadgen_repeat}) | samples/s |\n| --- | ---: |"
        )
        print(f"| through cmpkg run | {via:.2f} |\n| directly | {plain:.2f} |")
        print(f"| difference | {100 * (via - plain) / plain:+.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
