"""3D-UNet's flags, their environment defaults, and opening model and data.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_3DUNET_MODEL`` (an ONNX model, or the TorchScript .ptc for the pytorch backend),
``CMPKG_KITS19_DIR`` (a directory of KiTS19 case folders), ``CMPKG_3DUNET_LEVEL`` (99 or
99.9: the accuracy level, which names the benchmark), ``CMPKG_MLPERF_BACKEND`` and
``CMPKG_MLPERF_DEVICE``. The shared flags are the harness's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlperf_harness import cli as harness
from mlperf_harness import rules
from mlperf_harness.benchmark import Benchmark, EngineOptions, Opened, UsageError

from mlperf_3d_unet import LOADGEN_MODEL

ENV_MODEL = "CMPKG_3DUNET_MODEL"
ENV_DATASET = "CMPKG_KITS19_DIR"
ENV_LEVEL = "CMPKG_3DUNET_LEVEL"
LEVELS = ("99", "99.9")
# Smoke runs: the whole synthetic set (8 cases), or the first 8 KiTS19 cases.
SMOKE_COUNT = 8


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model", type=Path, default=harness.env_path(ENV_MODEL), help=f"default: ${ENV_MODEL}"
    )
    p.add_argument(
        "--dataset",
        type=Path,
        default=harness.env_path(ENV_DATASET),
        help=f"a directory of KiTS19 case folders (default: ${ENV_DATASET})",
    )
    harness.add_level(p, LEVELS, ENV_LEVEL, metric="DICE")
    harness.add_engine(p, ("onnxruntime", "pytorch"))


def check_args(args: argparse.Namespace) -> None:
    if args.model is None:
        raise UsageError(f"no model; hint: pass --model or set {ENV_MODEL}")
    if not args.model.is_file():
        raise UsageError(f"model file {args.model} not found")
    if args.dataset is None:
        raise UsageError(f"no dataset; hint: pass --dataset or set {ENV_DATASET}")
    if args.backend is None:
        args.backend = "onnxruntime" if args.model.suffix == ".onnx" else "pytorch"
    if args.max_batchsize is None:
        args.max_batchsize = 1
    if args.max_batchsize != 1:
        raise UsageError(
            "--max-batchsize must be 1; hint: 3D-UNet segments one case (of its own size) at a time"
        )


def open_run(args: argparse.Namespace, count: int | None) -> Opened:
    from kits19_seg.cases import CaseError

    from mlperf_3d_unet import accuracy
    from mlperf_3d_unet.backends import make_backend
    from mlperf_3d_unet.dataset import Kits19Set

    engine = make_backend(args.backend, EngineOptions.from_args(args))
    try:
        data = Kits19Set(args.dataset, engine.geometry, count)
    except CaseError as exc:
        raise UsageError(f"{exc}; hint: --dataset must hold KiTS19's case_XXXXX folders") from exc
    if args.count is not None and args.count > data.available:
        raise UsageError(
            f"--count {args.count} exceeds the {data.available} cases of {args.dataset}"
        )
    names, labels = data.names, data.labels
    describe = {
        **harness.engine_description(args, engine),
        "level": args.level,
        "dataset": {
            "path": str(args.dataset.resolve()),
            "cases": data.available,
            "count": data.count,
            "shapes": {n: list(label.shape) for n, label in zip(names, labels, strict=True)},
        },
    }
    return Opened(
        backend=engine,
        dataset=data,
        describe=describe,
        score=lambda samples: accuracy.score(samples, names, labels),
        max_batch=1,
        warmup_batch=1,
    )


def benchmark(level: str) -> Benchmark:
    name = f"3d-unet-{level}"
    return Benchmark(
        name=name,
        loadgen_model=LOADGEN_MODEL,
        description=f"MLPerf Inference 3D-UNet-{level} (KiTS19) under LoadGen.",
        add_flags=add_flags,
        check=check_args,
        open=open_run,
        smoke_count=SMOKE_COUNT,
        accuracy_target=rules.accuracy_target(name),
        extra_versions=("nibabel", "scipy"),
    )


def main(argv: list[str] | None = None) -> int:
    return harness.main(benchmark(harness.level_of(argv, LEVELS, ENV_LEVEL)), argv)
