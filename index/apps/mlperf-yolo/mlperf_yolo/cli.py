"""YOLO's flags, their environment defaults, and opening model and data.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_YOLO_MODEL`` (an ONNX export, or the checkpoint for the ultralytics backend),
``CMPKG_COCO_IMAGES`` (the image directory), ``CMPKG_COCO_ANNOTATIONS``
(``instances_val2017.json``), ``CMPKG_YOLO_LEVEL`` (95 or 99: the accuracy level, which
names the benchmark), ``CMPKG_MLPERF_BACKEND`` and ``CMPKG_MLPERF_DEVICE``. The shared
flags are the harness's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlperf_harness import cli as harness
from mlperf_harness import rules
from mlperf_harness.benchmark import Benchmark, EngineOptions, Opened, UsageError

from mlperf_yolo import LOADGEN_MODEL

ENV = {
    "model": "CMPKG_YOLO_MODEL",
    "dataset": "CMPKG_COCO_IMAGES",
    "annotations": "CMPKG_COCO_ANNOTATIONS",
}
ENV_LEVEL = "CMPKG_YOLO_LEVEL"
LEVELS = ("95", "99")
DEFAULT_BATCH = {"cpu": 8, "cuda": 32}
# Smoke runs: the round's performance sample count (64), the whole synthetic set.
SMOKE_COUNT = 64


def add_flags(p: argparse.ArgumentParser) -> None:
    helps = {"model": "model file", "dataset": "image directory", "annotations": "COCO JSON"}
    for flag, variable in ENV.items():
        p.add_argument(
            f"--{flag}",
            type=Path,
            default=harness.env_path(variable),
            help=f"{helps[flag]} (default: ${variable})",
        )
    harness.add_level(p, LEVELS, ENV_LEVEL, metric="mAP")
    harness.add_engine(p, ("onnxruntime", "ultralytics"))


def check_args(args: argparse.Namespace) -> None:
    for flag, variable in ENV.items():
        path = getattr(args, flag)
        if path is None:
            raise UsageError(f"no {flag}; hint: pass --{flag} or set {variable}")
        exists = path.is_dir() if flag == "dataset" else path.is_file()
        if not exists:
            raise UsageError(f"{flag} {path} not found")
    if args.backend is None:
        args.backend = "onnxruntime" if args.model.suffix == ".onnx" else "ultralytics"
    if args.max_batchsize is None:
        args.max_batchsize = DEFAULT_BATCH[args.device]


def open_run(args: argparse.Namespace, count: int | None) -> Opened:
    from mlperf_harness.report import sha256_of

    from mlperf_yolo import accuracy
    from mlperf_yolo.backends import make_backend
    from mlperf_yolo.dataset import CocoSet

    data = CocoSet(args.dataset, args.annotations, count)
    if args.count is not None and args.count > data.available:
        raise UsageError(
            f"--count {args.count} exceeds the {data.available} images of {args.annotations}"
        )
    missing = data.missing()
    if missing:
        raise UsageError(
            f"{len(missing)} images of {args.annotations} are not in {args.dataset} "
            f"(first: {', '.join(missing[:3])}); hint: point --dataset at the image directory"
        )
    engine = make_backend(args.backend, EngineOptions.from_args(args))
    annotations = args.annotations
    describe = {
        **harness.engine_description(args, engine),
        "level": args.level,
        "dataset": {
            "path": str(args.dataset.resolve()),
            "annotations": str(annotations.resolve()),
            "sha256": sha256_of(annotations),
            "images": data.available,
            "count": data.count,
        },
    }
    return Opened(
        backend=engine,
        dataset=data,
        describe=describe,
        score=lambda samples: accuracy.score(samples, annotations),
        max_batch=args.max_batchsize,
        warmup_batch=min(args.max_batchsize, 2),
    )


def benchmark(level: str) -> Benchmark:
    name = f"yolo-{level}"
    return Benchmark(
        name=name,
        loadgen_model=LOADGEN_MODEL,
        description=f"MLPerf Inference YOLO-{level} (YOLOv11, COCO 2017 subset) under LoadGen.",
        add_flags=add_flags,
        check=check_args,
        open=open_run,
        smoke_count=SMOKE_COUNT,
        accuracy_target=rules.accuracy_target(name),
        extra_versions=("pycocotools", "pillow", "ultralytics"),
    )


def main(argv: list[str] | None = None) -> int:
    return harness.main(benchmark(harness.level_of(argv, LEVELS, ENV_LEVEL)), argv)
