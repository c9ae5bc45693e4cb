"""A benchmark stand-in: MLPerf-harness flags, a short real workload, harness-shaped result.json.

It hashes 4 KiB blocks for `--samples` samples and reports what it measured: samples per
second (Offline's metric) or the 90th percentile latency (SingleStream's), latency
percentiles and an accuracy of 1.0. With `$SWEEPAPP_HOLD` naming a directory that holds a
file `<scenario>-<backend>`, it waits until that file is removed: the tests use it to catch a
cell while it runs, without timing anything. `$SWEEPAPP_FAIL` (comma-separated
`<scenario>-<backend>`) makes those cells exit 1, as a broken benchmark would.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from pathlib import Path


def hold(scenario: str, backend: str) -> None:
    directory = os.environ.get("SWEEPAPP_HOLD")
    if not directory:
        return
    flag = Path(directory) / f"{scenario}-{backend}"
    if flag.exists():
        (Path(directory) / f"{scenario}-{backend}.held").write_text(str(os.getpid()))
    while flag.exists():
        time.sleep(0.05)


def measure(samples: int) -> list[int]:
    block = bytes(4096)
    latencies = []
    for i in range(samples):
        start = time.perf_counter_ns()
        hashlib.sha256(block + i.to_bytes(4, "little")).digest()
        latencies.append(time.perf_counter_ns() - start)
    return latencies


def percentile(values: list[int], p: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scenario", default="Offline")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--fail", action="store_true")
    parser.add_argument("--results-dir", type=Path, default=Path("results") / "latest")
    args = parser.parse_args()
    backend = os.environ.get("SWEEPAPP_BACKEND", "none")
    hold(args.scenario, backend)
    failing = os.environ.get("SWEEPAPP_FAIL", "").split(",")
    if args.fail or f"{args.scenario}-{backend}" in failing:
        print("failing as asked", file=sys.stderr)
        return 1
    started = time.perf_counter()
    latencies = measure(args.samples)
    rate = args.samples / (time.perf_counter() - started)
    p90 = percentile(latencies, 90)
    offline = args.scenario == "Offline"
    result = {
        "schema": 1,
        "scenario": args.scenario,
        "mode": "performance",
        "profile": args.profile,
        "backend": backend,
        "result": {
            "scenario": args.scenario,
            "mode": "PerformanceOnly",
            "valid": True,
            "metric": "Samples per second" if offline else "90th percentile latency (ns)",
            "value": rate if offline else p90,
            "extras": {} if offline else {"QPS w/o loadgen overhead": rate},
            "latency_ns": {
                "50.00 percentile latency": percentile(latencies, 50),
                "90.00 percentile latency": p90,
                "99.00 percentile latency": percentile(latencies, 99),
            },
            "accuracy": 1.0,
            "accuracy_target": 0.99,
        },
        "run_context": json.loads(Path(os.environ["CMPKG_RUN_CONTEXT"]).read_text()),
    }
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "result.json").write_text(json.dumps(result, indent=1) + "\n")
    print(f"{args.scenario} {backend}: {rate:.0f} samples/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
