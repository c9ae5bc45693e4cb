"""The flags every benchmark shares, and one invocation from flags to ``result.json``.

Exit codes: 0 the tests ran (VALID or INVALID is in the result), 1 a run failed, 2 bad
flags or inputs. stdout ends with the human summary and then the results directory,
last; the plan, estimates and progress go to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

from mlperf_harness import profiles
from mlperf_harness.benchmark import Benchmark, UsageError
from mlperf_harness.compliance import TESTS
from mlperf_harness.settings import SCENARIOS, LoadgenOptions

ENV_CONTEXT = "CMPKG_RUN_CONTEXT"


def _add_run(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--profile",
        choices=profiles.NAMES,
        default="smoke",
        help="smoke (default): a short run of a few hundred samples, performance then "
        "accuracy, not a submission; full: the round's official settings, estimate first",
    )
    p.add_argument("--scenario", default="Offline", choices=SCENARIOS)
    p.add_argument(
        "--mode",
        choices=("performance", "accuracy"),
        help="one mode only (default: the profile's: smoke runs both, full performance)",
    )
    p.add_argument("--accuracy", action="store_const", const="accuracy", dest="mode")
    p.add_argument("--compliance", choices=TESTS, help="a compliance run (audit.config)")
    p.add_argument(
        "--settings-rate",
        type=float,
        metavar="SAMPLES_PER_S",
        help="the rate smoke settings follow instead of this run's own calibration: a "
        "compliance run takes its reference performance run's (result.json "
        "loadgen.settings_samples_per_second), so both run under the same LoadGen settings",
    )
    p.add_argument("--results-dir", type=Path, help="default: $CMPKG_RESULTS_DIR or ./results")
    p.add_argument("--versions", action="store_true", help="print the stack's versions and exit")


def _add_loadgen(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--count",
        type=int,
        help="use the first COUNT samples; in performance mode also the minimum query count",
    )
    p.add_argument("--performance-sample-count", type=int)
    p.add_argument("--target-qps", type=float, help="Offline expected / Server target QPS")
    p.add_argument(
        "--target-latency-ms",
        type=float,
        help="Server latency bound; SingleStream/MultiStream expected latency",
    )
    p.add_argument("--min-duration", type=int, metavar="MS")
    p.add_argument("--max-duration", type=int, metavar="MS")
    p.add_argument("--time", type=int, metavar="S", help="minimum = maximum duration, seconds")
    p.add_argument("--min-query-count", type=int)
    p.add_argument("--max-query-count", type=int)
    p.add_argument("--samples-per-query", type=int, help="MultiStream samples per query")
    p.add_argument("--mlperf-conf", type=Path, help="another round's mlperf.conf")
    p.add_argument("--user-conf", type=Path, help="LoadGen user.conf (after mlperf.conf)")
    p.add_argument("--max-batchsize", type=int, help="largest batch the SUT builds")


ENV_BACKEND = "CMPKG_MLPERF_BACKEND"
ENV_DEVICE = "CMPKG_MLPERF_DEVICE"


def add_level(p: argparse.ArgumentParser, levels: tuple[str, ...], env: str, metric: str) -> None:
    """`--level`: the accuracy level an app's benchmark name carries (bert-99, yolo-95, ...)."""
    p.add_argument(
        "--level",
        choices=levels,
        default=os.environ.get(env) or "99",
        help=f"accuracy level: {' or '.join(levels)} %% of the reference {metric} "
        f"(default: ${env}, else 99)",
    )


def level_of(argv: list[str] | None, levels: tuple[str, ...], env: str) -> str:
    """The level names the benchmark (and its target), so it is read before the rest."""
    p = argparse.ArgumentParser(add_help=False)
    add_level(p, levels, env, metric="")
    known, _ = p.parse_known_args(argv)
    return str(known.level)


def env_path(variable: str) -> Path | None:
    """A path flag's default: the variable's value (cmpkg's recipes export them), or None
    when it is unset or empty."""
    value = os.environ.get(variable)
    return Path(value) if value else None


def engine_description(args: argparse.Namespace, engine: Any) -> dict[str, Any]:
    """The part of result.json's "run" that the engine flags and ``--model`` give every
    app: backend, device, the engine's own description, the batch limit, and the model
    file with its sha256."""
    from mlperf_harness.report import sha256_of

    return {
        "backend": args.backend,
        "device": args.device,
        "engine": engine.describe(),
        "max_batchsize": args.max_batchsize,
        "model": {"path": str(args.model.resolve()), "sha256": sha256_of(args.model)},
    }


def add_engine(p: argparse.ArgumentParser, backends: tuple[str, ...]) -> None:
    """`--backend` (else from the model's file suffix), `--device` and `--threads`."""
    p.add_argument(
        "--backend",
        choices=backends,
        default=os.environ.get(ENV_BACKEND) or None,
        help=f"default: ${ENV_BACKEND}, else from the model's file suffix",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default=os.environ.get(ENV_DEVICE) or "cpu")
    p.add_argument("--threads", type=int, help="intra-op CPU threads (default: the runtime's)")


def parser(benchmark: Benchmark) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=f"mlperf-{benchmark.name}", description=benchmark.description)
    _add_run(p)
    _add_loadgen(p)
    benchmark.add_flags(p)
    return p


def check_args(args: argparse.Namespace) -> None:
    if args.time is not None:
        args.min_duration = args.max_duration = args.time * 1000
    if args.settings_rate is not None and not args.settings_rate > 0:
        raise UsageError("--settings-rate must be above 0")
    for name in ("count", "max_batchsize", "performance_sample_count"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise UsageError(f"--{name.replace('_', '-')} must be at least 1")
    for path in (args.user_conf, args.mlperf_conf):
        if path is not None and not path.is_file():
            raise UsageError(f"{path} not found")


def options_from(args: argparse.Namespace, modes: tuple[str, ...]) -> LoadgenOptions:
    min_queries = args.min_query_count
    if args.count is not None and modes == ("performance",) and min_queries is None:
        min_queries = args.count  # the reference harness's behaviour
    return LoadgenOptions(
        scenario=args.scenario,
        mlperf_conf=args.mlperf_conf,
        user_conf=args.user_conf,
        target_qps=args.target_qps,
        target_latency_ms=args.target_latency_ms,
        min_duration_ms=args.min_duration,
        max_duration_ms=args.max_duration,
        min_query_count=min_queries,
        max_query_count=args.max_query_count,
        performance_sample_count=args.performance_sample_count,
        samples_per_query=args.samples_per_query,
    )


def modes_of(args: argparse.Namespace, profile: profiles.Profile) -> tuple[str, ...]:
    if args.compliance:
        return ("performance",)
    return (args.mode,) if args.mode else profile.modes


def run(benchmark: Benchmark, args: argparse.Namespace) -> int:
    from mlperf_harness import layout, run_loop

    profile = profiles.named(args.profile, benchmark.smoke_count, args.scenario)
    modes = modes_of(args, profile)
    run_dir = args.results_dir or layout.default_run_dir(benchmark.name, args.scenario)
    run_dir = run_dir.resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    count = args.count or profile.count
    started = time.time()
    opened = benchmark.open(args, count)
    outcome = run_loop.run_modes(
        benchmark,
        opened,
        profile,
        options_from(args, modes),
        modes,
        args.compliance,
        run_dir,
        settings_rate=args.settings_rate,
    )
    ended = time.time()
    result = _result(benchmark, args, outcome.profile, opened, outcome, (started, ended))
    (run_dir / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    from mlperf_harness.report import human_summary

    print(human_summary(result, outcome.loadgen_block))
    print(run_dir)
    # A compliance test that ran and failed is the run's verdict: scripts and sweeps see it
    # in the exit status, not only in the summary's FAIL line.
    failed = outcome.verification is not None and outcome.verification["passed"] is False
    return 1 if failed else 0


def _result(
    benchmark: Benchmark,
    args: argparse.Namespace,
    profile: profiles.Profile,
    opened: Any,
    outcome: Any,
    times: tuple[float, float],
) -> dict[str, Any]:
    from mlperf_harness import report, versions

    head = {
        "benchmark": benchmark.name,
        "scenario": args.scenario,
        "profile": profile.name,
        "submission_length": profile.submission_length,
        "label": profile.label,
        "modes": list(outcome.modes),
        "mode": "+".join(outcome.modes),
        "compliance": args.compliance,
        "start": report.iso(times[0]),
        "end": report.iso(times[1]),
        "wall_seconds": round(times[1] - times[0], 3),
    }
    rest = {
        "run": opened.describe,
        "loadgen": outcome.loadgen,
        "run_context": report.read_run_context(os.environ.get(ENV_CONTEXT)),
        "versions": versions.collect(benchmark.extra_versions),
        "argv": sys.argv[1:],
        "verification": outcome.verification,
    }
    return report.build_result(head, outcome.performance, outcome.accuracy, rest)


def main(benchmark: Benchmark, argv: list[str] | None = None) -> int:
    args = parser(benchmark).parse_args(argv)
    if args.versions:
        from mlperf_harness import versions

        print(versions.render(versions.collect(benchmark.extra_versions)))
        return 0
    try:
        check_args(args)
        benchmark.check(args)
        return run(benchmark, args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError, RuntimeError, ImportError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
