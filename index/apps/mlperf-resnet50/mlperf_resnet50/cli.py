"""Flags, their environment defaults, and one run from flags to ``result.json``.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_RESNET50_MODEL`` (model file: .onnx, .pth or .npz), ``CMPKG_IMAGENET_PREPROCESSED``
(preprocessed dataset directory), ``CMPKG_MLPERF_BACKEND`` (onnxruntime|pytorch),
``CMPKG_MLPERF_DEVICE`` (cpu|cuda) and ``CMPKG_RUN_CONTEXT`` (a JSON file copied verbatim
into result.json). Exit codes: 0 the test ran (VALID or INVALID is in the result), 1 it
failed, 2 bad flags or inputs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

ENV_MODEL = "CMPKG_RESNET50_MODEL"
ENV_DATASET = "CMPKG_IMAGENET_PREPROCESSED"
ENV_BACKEND = "CMPKG_MLPERF_BACKEND"
ENV_DEVICE = "CMPKG_MLPERF_DEVICE"
ENV_CONTEXT = "CMPKG_RUN_CONTEXT"

DEFAULT_BATCH = {"cpu": 32, "cuda": 256}
CPU_WARMUP_BATCH = 2
# Gathering a batch into pinned memory with 8 threads kept an H200 fed (14.8k samples/s
# fp16) where one torch.index_select managed 10.1k.
MAX_GATHER_THREADS = 8
# A 1001-class output has the TF background class at 0 (the official ONNX model).
BACKGROUND_CLASSES = 1001


class UsageError(Exception):
    """Flags or inputs that cannot work; exit code 2."""


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def _add_inputs(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=_env_path(ENV_MODEL),
        help=f"model file: .onnx, .pth or .npz (default: ${ENV_MODEL})",
    )
    p.add_argument(
        "--dataset",
        type=Path,
        default=_env_path(ENV_DATASET),
        help=f"preprocessed ImageNet directory (default: ${ENV_DATASET})",
    )
    p.add_argument(
        "--backend",
        choices=("onnxruntime", "pytorch"),
        default=os.environ.get(ENV_BACKEND) or None,
        help=f"default: ${ENV_BACKEND}, else from the model's file suffix",
    )
    p.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default=os.environ.get(ENV_DEVICE) or "cpu",
        help=f"default: ${ENV_DEVICE}, else cpu",
    )
    p.add_argument(
        "--precision", choices=("fp32", "fp16"), default="fp32", help="fp16: pytorch on cuda only"
    )
    p.add_argument(
        "--results-dir", type=Path, default=None, help="default: ./results/<UTC timestamp>"
    )
    p.add_argument(
        "--versions", action="store_true", help="print the stack's versions and devices, then exit"
    )


def _add_loadgen(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--scenario",
        default="Offline",
        choices=("Offline", "SingleStream", "MultiStream", "Server"),
    )
    p.add_argument("--mode", choices=("performance", "accuracy"), default="performance")
    p.add_argument(
        "--accuracy",
        action="store_const",
        const="accuracy",
        dest="mode",
        help="same as --mode accuracy",
    )
    p.add_argument(
        "--count",
        type=int,
        help="use the first COUNT samples of the dataset; in "
        "performance mode also the minimum query count (as the reference does)",
    )
    p.add_argument(
        "--performance-sample-count",
        type=int,
        help="samples loaded for performance runs (default: 1024, capped by count)",
    )
    p.add_argument("--target-qps", type=float, help="Offline expected / Server target QPS")
    p.add_argument(
        "--target-latency-ms",
        type=float,
        help="Server latency bound; SingleStream/MultiStream expected latency",
    )
    p.add_argument("--min-duration", type=int, metavar="MS", help="minimum test duration")
    p.add_argument("--max-duration", type=int, metavar="MS", help="maximum test duration")
    p.add_argument("--time", type=int, metavar="S", help="minimum = maximum duration, seconds")
    p.add_argument("--min-query-count", type=int)
    p.add_argument("--max-query-count", type=int)
    p.add_argument("--samples-per-query", type=int, help="MultiStream samples per query")
    p.add_argument("--user-conf", type=Path, help="LoadGen user.conf (after mlperf.conf)")
    p.add_argument(
        "--audit-conf",
        type=Path,
        default=Path("audit.config"),
        help="LoadGen audit config, read if it exists (default: ./audit.config)",
    )


def _add_engine(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--max-batchsize",
        type=int,
        help=f"largest batch (default: {DEFAULT_BATCH['cpu']} on cpu, "
        f"{DEFAULT_BATCH['cuda']} on cuda)",
    )
    p.add_argument("--threads", type=int, help="intra-op CPU threads (default: the runtime's)")
    p.add_argument(
        "--label-offset",
        type=int,
        help="added to the predicted class (default: -1 for 1001-class models, else 0)",
    )
    p.add_argument(
        "--compile",
        metavar="MODE",
        dest="compile_mode",
        help="pytorch: torch.compile with this mode (e.g. max-autotune, "
        "reduce-overhead for CUDA graphs); batches are padded to --max-batchsize",
    )
    p.add_argument(
        "--fold-bn",
        action="store_true",
        help="pytorch: fold BatchNorm into the convolutions (fewer kernels; on an H200 in "
        "fp16 it was ~12%% slower at batch 256, so it is off by default)",
    )
    p.add_argument(
        "--gather-threads",
        type=int,
        default=None,
        help="pytorch/cuda: host threads that gather a batch into pinned memory "
        f"(default: min({MAX_GATHER_THREADS}, CPUs); 0: one torch.index_select)",
    )
    p.add_argument(
        "--data-on-device",
        action="store_true",
        help="pytorch/cuda: keep loaded samples in GPU memory (not the rules' host-memory start)",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="mlperf_resnet50", description="MLPerf Inference ResNet-50 v1.5 under LoadGen."
    )
    _add_inputs(p)
    _add_loadgen(p)
    _add_engine(p)
    return p


def check_args(args: argparse.Namespace) -> None:
    """Fill derived defaults and reject what cannot run (UsageError)."""
    if args.model is None:
        raise UsageError(f"no model; hint: pass --model or set {ENV_MODEL}")
    if args.dataset is None:
        raise UsageError(f"no dataset; hint: pass --dataset or set {ENV_DATASET}")
    if not args.model.is_file():
        raise UsageError(f"model file {args.model} not found")
    if not (args.dataset / "val_map.txt").is_file():
        raise UsageError(f"{args.dataset} has no val_map.txt; is it a preprocessed dataset?")
    if args.backend is None:
        args.backend = "onnxruntime" if args.model.suffix == ".onnx" else "pytorch"
    if args.max_batchsize is None:
        args.max_batchsize = DEFAULT_BATCH[args.device]
    if args.gather_threads is None:
        args.gather_threads = min(MAX_GATHER_THREADS, os.cpu_count() or 1)
    if args.time is not None:
        args.min_duration = args.max_duration = args.time * 1000
    if args.count is not None and args.mode == "performance" and args.min_query_count is None:
        args.min_query_count = args.count
    if args.results_dir is None:
        args.results_dir = Path("results") / time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())


def run(args: argparse.Namespace) -> int:
    """One LoadGen test; heavy imports happen here so --help and --versions stay cheap."""
    from mlperf_resnet50 import accuracy, report, runner, summary, versions
    from mlperf_resnet50.backends import BackendOptions, make_backend
    from mlperf_resnet50.dataset import ImagenetQsl

    results_dir = args.results_dir.resolve()
    results_dir.mkdir(parents=True, exist_ok=True)
    backend = make_backend(
        args.backend,
        BackendOptions(
            args.model,
            args.device,
            args.precision,
            args.threads,
            args.max_batchsize,
            args.compile_mode,
            args.data_on_device,
            args.gather_threads,
            args.fold_bn,
        ),
    )
    offset = args.label_offset
    if offset is None:
        offset = -1 if backend.classes == BACKGROUND_CLASSES else 0
    qsl = ImagenetQsl(args.dataset, backend, args.count)
    options = loadgen_options(args)
    settings = runner.test_settings(options, results_dir)
    perf_count = runner.performance_count(args.performance_sample_count, settings, qsl.count)
    settings.performance_sample_count_override = perf_count
    backend.warmup(CPU_WARMUP_BATCH if args.device == "cpu" else args.max_batchsize)
    sut = runner.Sut(backend, qsl, args.max_batchsize, offset)
    started = time.time()
    runner.run_test(sut, qsl, perf_count, settings, results_dir, args.audit_conf)
    elapsed = time.time() - started
    parsed = summary.parse_summary((results_dir / "mlperf_log_summary.txt").read_text())
    acc = None
    if args.mode == "accuracy":
        log = (results_dir / "mlperf_log_accuracy.json").read_text()
        acc = accuracy.score_text(log, qsl.labels)
    run_info = describe_run(args, backend.describe(), offset, perf_count, options, elapsed)
    run_info["model"]["sha256"] = report.sha256_of(args.model)
    result = report.build_result(
        run_info,
        parsed,
        acc,
        report.read_run_context(os.environ.get(ENV_CONTEXT)),
        versions.collect(),
    )
    (results_dir / "result.json").write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(report.human_summary(result))
    print(results_dir)
    return 0


def loadgen_options(args: argparse.Namespace) -> Any:
    from mlperf_resnet50.runner import LoadgenOptions

    return LoadgenOptions(
        scenario=args.scenario,
        mode=args.mode,
        user_conf=args.user_conf,
        target_qps=args.target_qps,
        target_latency_ms=args.target_latency_ms,
        min_duration_ms=args.min_duration,
        max_duration_ms=args.max_duration,
        min_query_count=args.min_query_count,
        max_query_count=args.max_query_count,
        performance_sample_count=args.performance_sample_count,
        samples_per_query=args.samples_per_query,
    )


def describe_run(
    args: argparse.Namespace,
    engine: dict[str, Any],
    offset: int,
    perf_count: int,
    options: Any,
    elapsed: float,
) -> dict[str, Any]:
    from mlperf_resnet50.runner import overrides

    return {
        "scenario": args.scenario,
        "mode": args.mode,
        "backend": args.backend,
        "device": args.device,
        "precision": args.precision,
        "engine": engine,
        "max_batchsize": args.max_batchsize,
        "label_offset": offset,
        "model": {"path": str(args.model.resolve())},
        "dataset": {"path": str(args.dataset.resolve()), "count": args.count},
        "performance_sample_count": perf_count,
        "settings_overrides": overrides(options),
        "user_conf": str(args.user_conf) if args.user_conf else None,
        "wall_seconds": round(elapsed, 3),
        "argv": sys.argv[1:],
    }


def main(argv: list[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if args.versions:
        from mlperf_resnet50 import versions

        print(versions.render(versions.collect()))
        return 0
    try:
        check_args(args)
        return run(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, OSError, RuntimeError, ImportError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
