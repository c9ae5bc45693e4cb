"""ResNet-50's flags, their environment defaults, and opening model and data.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_RESNET50_MODEL`` (model file: .onnx, .pth or .npz), ``CMPKG_IMAGENET_PREPROCESSED``
(preprocessed dataset directory), ``CMPKG_IMAGENET_LABELS`` (a val_map.txt whose labels
replace the dataset's: the synthetic model's own predictions), ``CMPKG_MLPERF_BACKEND``
(onnxruntime|pytorch) and ``CMPKG_MLPERF_DEVICE`` (cpu|cuda). The shared flags (profile,
scenario, mode, LoadGen settings, results) are the harness's: ``mlperf_harness.cli``.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

import numpy as np
from mlperf_harness import cli as harness
from mlperf_harness import rules
from mlperf_harness.benchmark import Benchmark, Opened, UsageError

from mlperf_resnet50 import MODEL_NAME

ENV_MODEL = "CMPKG_RESNET50_MODEL"
ENV_DATASET = "CMPKG_IMAGENET_PREPROCESSED"
ENV_LABELS = "CMPKG_IMAGENET_LABELS"
ENV_BACKEND = "CMPKG_MLPERF_BACKEND"
ENV_DEVICE = "CMPKG_MLPERF_DEVICE"

DEFAULT_BATCH = {"cpu": 32, "cuda": 256}
CPU_WARMUP_BATCH = 2
# Gathering a batch into pinned memory with 8 threads kept an H200 fed (14.8k samples/s
# fp16) where one torch.index_select managed 10.1k.
MAX_GATHER_THREADS = 8
# A 1001-class output has the TF background class at 0 (the official ONNX model).
BACKGROUND_CLASSES = 1001
# Smoke runs: 128 images take about 10 s per mode on two loaded CPU cores.
SMOKE_COUNT = 128


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=harness.env_path(ENV_MODEL),
        help=f"model file: .onnx, .pth or .npz (default: ${ENV_MODEL})",
    )
    p.add_argument(
        "--dataset",
        type=Path,
        default=harness.env_path(ENV_DATASET),
        help=f"preprocessed ImageNet directory (default: ${ENV_DATASET})",
    )
    p.add_argument(
        "--labels",
        type=Path,
        default=harness.env_path(ENV_LABELS),
        help=f"val_map.txt with the ground truth (default: ${ENV_LABELS}, else the dataset's)",
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
    _add_engine(p)


def _add_engine(p: argparse.ArgumentParser) -> None:
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
    if args.labels is not None and not args.labels.is_file():
        raise UsageError(f"labels file {args.labels} not found")
    if args.backend is None:
        args.backend = "onnxruntime" if args.model.suffix == ".onnx" else "pytorch"
    if args.max_batchsize is None:
        args.max_batchsize = DEFAULT_BATCH[args.device]
    if args.gather_threads is None:
        args.gather_threads = min(MAX_GATHER_THREADS, os.cpu_count() or 1)


class LabelRows:
    """An engine whose arg-max classes, shifted by the label offset, become one float32
    per sample: the reference harness's response encoding."""

    def __init__(self, engine: Any, offset: int) -> None:
        self.engine = engine
        self.offset = offset

    def load(self, samples: np.ndarray) -> None:
        self.engine.load(samples)

    def unload(self) -> None:
        self.engine.unload()

    def warmup(self, batch: int) -> None:
        self.engine.warmup(batch)

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = self.engine.describe()
        return out

    def launch(self, positions: np.ndarray) -> Any:
        return Shifted(self.engine.launch(positions), self.offset)


class Shifted:
    __slots__ = ("offset", "pending")

    def __init__(self, pending: Any, offset: int) -> None:
        self.pending = pending
        self.offset = offset

    def wait(self) -> np.ndarray:
        labels: np.ndarray = (self.pending.wait() + self.offset).astype(np.float32)
        return labels


def open_run(args: argparse.Namespace, count: int | None) -> Opened:
    from mlperf_resnet50 import accuracy
    from mlperf_resnet50.backends import make_backend
    from mlperf_resnet50.dataset import ImagenetSet

    data = ImagenetSet(args.dataset, count)
    if args.count is not None and args.count > data.count:
        raise UsageError(f"--count {args.count} exceeds the {data.count} samples in {args.dataset}")
    engine = make_backend(args.backend, _backend_options(args))
    offset = args.label_offset
    if offset is None:
        offset = -1 if engine.classes == BACKGROUND_CLASSES else 0
    labels = data.labels if args.labels is None else _labels_for(data, args.labels)
    describe = {
        **harness.engine_description(args, engine),
        "precision": args.precision,
        "label_offset": offset,
        "dataset": {"path": str(args.dataset.resolve()), "count": data.count},
        "labels": str(args.labels.resolve()) if args.labels else None,
    }
    return Opened(
        backend=LabelRows(engine, offset),
        dataset=data,
        describe=describe,
        score=lambda samples: accuracy.score(samples, labels),
        max_batch=args.max_batchsize,
        warmup_batch=CPU_WARMUP_BATCH if args.device == "cpu" else args.max_batchsize,
    )


def _labels_for(data: Any, path: Path) -> list[int]:
    """The dataset's samples labelled from another val_map.txt, matched by image name."""
    from mlperf_resnet50.dataset import read_val_map

    by_name = {e.name: e.label for e in read_val_map(path)}
    missing = [e.name for e in data.entries if e.name not in by_name]
    if missing:
        raise UsageError(f"{path} has no label for {missing[0]} ({len(missing)} missing)")
    return [by_name[e.name] for e in data.entries]


def _backend_options(args: argparse.Namespace) -> Any:
    from mlperf_resnet50.backends import BackendOptions

    return BackendOptions(
        args.model,
        args.device,
        args.precision,
        args.threads,
        args.max_batchsize,
        args.compile_mode,
        args.data_on_device,
        args.gather_threads,
        args.fold_bn,
    )


BENCHMARK = Benchmark(
    name=MODEL_NAME,
    loadgen_model=MODEL_NAME,
    description="MLPerf Inference ResNet-50 v1.5 under LoadGen.",
    add_flags=add_flags,
    check=check_args,
    open=open_run,
    smoke_count=SMOKE_COUNT,
    accuracy_target=rules.accuracy_target(MODEL_NAME),
)


def parser() -> argparse.ArgumentParser:
    return harness.parser(BENCHMARK)


def main(argv: list[str] | None = None) -> int:
    return harness.main(BENCHMARK, argv)
