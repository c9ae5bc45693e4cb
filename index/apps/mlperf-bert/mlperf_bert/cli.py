"""BERT's flags, their environment defaults, and opening model and data.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_BERT_MODEL`` (model.onnx, or model.pytorch for the pytorch backend),
``CMPKG_BERT_VOCAB`` (vocab.txt), ``CMPKG_SQUAD_DEV`` (a SQuAD v1.1 JSON file),
``CMPKG_BERT_LEVEL`` (99 or 99.9: the accuracy level, which names the benchmark),
``CMPKG_MLPERF_BACKEND`` and ``CMPKG_MLPERF_DEVICE``. The shared flags are the harness's.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mlperf_harness import cli as harness
from mlperf_harness import rules
from mlperf_harness.benchmark import Benchmark, EngineOptions, Opened, UsageError

from mlperf_bert import LOADGEN_MODEL

ENV = {
    "model": "CMPKG_BERT_MODEL",
    "vocab": "CMPKG_BERT_VOCAB",
    "dataset": "CMPKG_SQUAD_DEV",
}
ENV_LEVEL = "CMPKG_BERT_LEVEL"
LEVELS = ("99", "99.9")
DEFAULT_BATCH = {"cpu": 8, "cuda": 64}
# Smoke runs: 128 features take a few seconds per mode with the synthetic model on 2 cores.
SMOKE_COUNT = 128


def add_flags(p: argparse.ArgumentParser) -> None:
    for flag, variable in ENV.items():
        p.add_argument(
            f"--{flag}", type=Path, default=harness.env_path(variable), help=f"default: ${variable}"
        )
    harness.add_level(p, LEVELS, ENV_LEVEL, metric="F1")
    harness.add_engine(p, ("onnxruntime", "pytorch"))


def check_args(args: argparse.Namespace) -> None:
    for flag, variable in ENV.items():
        path = getattr(args, flag)
        if path is None:
            raise UsageError(f"no {flag}; hint: pass --{flag} or set {variable}")
        if not path.is_file():
            raise UsageError(f"{flag} file {path} not found")
    if args.backend is None:
        args.backend = "onnxruntime" if args.model.suffix == ".onnx" else "pytorch"
    if args.max_batchsize is None:
        args.max_batchsize = DEFAULT_BATCH[args.device]


def open_run(args: argparse.Namespace, count: int | None) -> Opened:
    from mlperf_harness.report import sha256_of

    from mlperf_bert import accuracy
    from mlperf_bert.backends import make_backend
    from mlperf_bert.dataset import SquadSet

    data = SquadSet(args.dataset, args.vocab, count)
    if args.count is not None and args.count > data.available:
        raise UsageError(
            f"--count {args.count} exceeds the {data.available} features of {args.dataset}"
        )
    engine = make_backend(args.backend, EngineOptions.from_args(args))
    examples, feats = data.examples, data.features
    describe = {
        **harness.engine_description(args, engine),
        "level": args.level,
        "vocab": {"path": str(args.vocab.resolve()), "sha256": sha256_of(args.vocab)},
        "dataset": {
            "path": str(args.dataset.resolve()),
            "sha256": sha256_of(args.dataset),
            "questions": len(examples),
            "features": data.available,
            "count": data.count,
        },
    }
    return Opened(
        backend=engine,
        dataset=data,
        describe=describe,
        score=lambda samples: accuracy.score(samples, examples, feats),
        max_batch=args.max_batchsize,
        warmup_batch=min(args.max_batchsize, 2),
    )


def benchmark(level: str) -> Benchmark:
    name = f"bert-{level}"
    return Benchmark(
        name=name,
        loadgen_model=LOADGEN_MODEL,
        description=f"MLPerf Inference BERT-{level} (SQuAD v1.1) under LoadGen.",
        add_flags=add_flags,
        check=check_args,
        open=open_run,
        smoke_count=SMOKE_COUNT,
        accuracy_target=rules.accuracy_target(name),
        extra_versions=("tokenizers", "transformers"),
    )


def main(argv: list[str] | None = None) -> int:
    return harness.main(benchmark(harness.level_of(argv, LEVELS, ENV_LEVEL)), argv)
