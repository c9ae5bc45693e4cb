"""llama3.1-8b's flags, their environment defaults, and opening model and data.

Environment variables (exported by cmpkg's recipes; a flag always wins):
``CMPKG_LLAMA_MODEL`` (a Hugging Face model directory), ``CMPKG_LLAMA_THREADS`` (the
intra-op CPU threads the model runs best with: 1 for the synthetic tiny Llama),
``CMPKG_CNNDM`` (the prepared CNN-DailyMail JSON), ``CMPKG_LLAMA_BENCHMARK`` (llama3.1-8b
or llama3.1-8b-edge: the round's benchmark, which sets the scenarios and targets),
``CMPKG_MLPERF_BACKEND`` (transformers or vllm) and ``CMPKG_MLPERF_DEVICE``. The shared
flags are the harness's.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from mlperf_harness import cli as harness
from mlperf_harness import rules
from mlperf_harness.benchmark import Benchmark, Opened, UsageError
from mlperf_harness.tokens import Tokens

from mlperf_llama import LOADGEN_MODEL

ENV = {"model": "CMPKG_LLAMA_MODEL", "dataset": "CMPKG_CNNDM"}
ENV_BENCHMARK = "CMPKG_LLAMA_BENCHMARK"
ENV_BACKEND = "CMPKG_MLPERF_BACKEND"
ENV_DEVICE = "CMPKG_MLPERF_DEVICE"
ENV_THREADS = "CMPKG_LLAMA_THREADS"
BENCHMARKS = ("llama3.1-8b", "llama3.1-8b-edge")
# The reference's generation limit (max_new_tokens of its SUT); a synthetic set records its own.
MAX_NEW_TOKENS = 128
# The harness's own names for the round's metrics.
METRIC_NAMES = {
    "ROUGE1": "rouge1",
    "ROUGE2": "rouge2",
    "ROUGEL": "rougeL",
    "ROUGELSUM": "rougeLsum",
}
SMOKE_COUNT = 16


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def add_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        type=Path,
        default=_env_path(ENV["model"]),
        help=f"a Hugging Face model directory (default: ${ENV['model']})",
    )
    p.add_argument(
        "--dataset",
        type=Path,
        default=_env_path(ENV["dataset"]),
        help=f"the prepared CNN-DailyMail JSON (default: ${ENV['dataset']})",
    )
    p.add_argument(
        "--benchmark",
        choices=BENCHMARKS,
        default=os.environ.get(ENV_BENCHMARK) or BENCHMARKS[0],
        help=f"the round's benchmark (default: ${ENV_BENCHMARK}, else llama3.1-8b)",
    )
    p.add_argument(
        "--backend",
        choices=("transformers", "vllm"),
        default=os.environ.get(ENV_BACKEND) or "transformers",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default=os.environ.get(ENV_DEVICE) or "cpu")
    threads = os.environ.get(ENV_THREADS)
    p.add_argument(
        "--threads",
        type=int,
        default=int(threads) if threads else None,
        help=f"intra-op CPU threads (default: ${ENV_THREADS}, else torch's)",
    )
    p.add_argument(
        "--max-new-tokens",
        type=int,
        help=f"generation limit (default: the dataset's, else {MAX_NEW_TOKENS})",
    )


def check_args(args: argparse.Namespace) -> None:
    for flag, variable in ENV.items():
        path = getattr(args, flag)
        if path is None:
            raise UsageError(f"no {flag}; hint: pass --{flag} or set {variable}")
    if not (args.model / "config.json").is_file():
        raise UsageError(f"{args.model} has no config.json; hint: --model is a model directory")
    if not args.dataset.is_file():
        raise UsageError(f"dataset file {args.dataset} not found")
    allowed = rules.scenarios(args.benchmark)
    scenarios = [*allowed.get("required", []), *allowed.get("optional", [])]
    if scenarios and args.scenario not in scenarios:
        raise UsageError(
            f"{args.benchmark} has no {args.scenario} scenario in this round; hint: one of "
            f"{', '.join(scenarios)} ({allowed.get('category')})"
        )
    if args.max_batchsize is None:
        args.max_batchsize = 1


def open_run(args: argparse.Namespace, count: int | None) -> Opened:
    from mlperf_harness.report import sha256_of
    from tokenizers import Tokenizer

    from mlperf_llama import accuracy
    from mlperf_llama.backends import Options, make_backend
    from mlperf_llama.dataset import CnnDailyMail

    data = CnnDailyMail(args.dataset, count)
    if args.count is not None and args.count > data.available:
        raise UsageError(
            f"--count {args.count} exceeds the {data.available} samples of {args.dataset}"
        )
    limit = args.max_new_tokens or int(data.meta.get("max_new_tokens", MAX_NEW_TOKENS))
    options = Options(args.model, args.device, args.threads, limit)
    engine = make_backend(args.backend, options, data.prompts)
    tokenizer = Tokenizer.from_file(str(args.model / "tokenizer.json"))
    eos = _eos_id(args.model)
    targets = {METRIC_NAMES[k]: v for k, v in rules.accuracy_targets(args.benchmark).items()}
    gen_len = _gen_len_reference(args.benchmark, data, accuracy)
    describe = {
        "benchmark": args.benchmark,
        "backend": args.backend,
        "device": args.device,
        "engine": engine.describe(),
        "model": {"path": str(args.model.resolve())},
        "dataset": {
            "path": str(args.dataset.resolve()),
            "sha256": sha256_of(args.dataset),
            "samples": data.available,
            "count": data.count,
            "synthetic": bool(data.meta),
        },
        "max_new_tokens": limit,
        "eos_token_id": eos,
    }
    return Opened(
        backend=engine,
        dataset=data,
        describe=describe,
        score=lambda samples: accuracy.score(
            samples,
            data.references,
            lambda ids: tokenizer.decode(ids, skip_special_tokens=True),
            gen_len,
            targets,
        ),
        max_batch=args.max_batchsize,
        warmup_batch=1,
        tokens=Tokens(eos_token_id=eos),
    )


def _gen_len_reference(benchmark: str, data: Any, accuracy: Any) -> int | None:
    """What the generation length is checked against: the round's figure for its whole
    dataset; for a synthetic set, whose references are the model's own outputs, the
    length of those references measured the same way; nothing for a subset."""
    if data.count != data.available:
        return None
    if data.meta:
        return int(accuracy.gen_len(accuracy.postprocess(data.references)[0]))
    return rules.reference_gen_len(benchmark)


def _eos_id(model: Path) -> int:
    import json

    config = json.loads((model / "config.json").read_text())
    eos = config.get("eos_token_id")
    return int(eos[0] if isinstance(eos, list) else eos)


def benchmark(name: str) -> Benchmark:
    return Benchmark(
        name=name,
        loadgen_model=LOADGEN_MODEL,
        description=f"MLPerf Inference {name} (CNN-DailyMail summarisation) under LoadGen.",
        add_flags=add_flags,
        check=check_args,
        open=open_run,
        smoke_count=SMOKE_COUNT,
        accuracy_target=rules.accuracy_target(name),
        extra_versions=("torch", "transformers", "tokenizers", "rouge_score", "vllm"),
    )


def _benchmark(argv: list[str] | None) -> str:
    """The benchmark names the run (and its targets), so it is read before the rest."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--benchmark", choices=BENCHMARKS, default=os.environ.get(ENV_BENCHMARK) or BENCHMARKS[0]
    )
    known, _ = p.parse_known_args(argv)
    return str(known.benchmark)


def main(argv: list[str] | None = None) -> int:
    return harness.main(benchmark(_benchmark(argv)), argv)
