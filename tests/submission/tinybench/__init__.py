"""A tiny MLPerf-shaped benchmark on the real shared harness and LoadGen, for submission tests.

`python -m tinybench.classify` reports as `resnet50` (accuracy.txt in the ImageNet form),
`python -m tinybench.qa` as `bert-99` (the SQuAD JSON form). The "model" is a fixed seeded
linear map and the labels are its own answers, so an accuracy run scores 100% and a rerun
scores exactly the same.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np
from mlperf_harness.benchmark import Benchmark, Opened
from mlperf_harness.cli import main as harness_main
from mlperf_harness.report import Score
from mlperf_harness.rules import accuracy_target
from mlperf_harness.sut import Done

SAMPLES, FEATURES, CLASSES = 32, 16, 10
BATCH_SECONDS = 0.004


class Data:
    def __init__(self, count: int) -> None:
        rng = np.random.default_rng(7)
        self.rows = rng.standard_normal((count, FEATURES)).astype(np.float32)

    @property
    def count(self) -> int:
        return len(self.rows)

    def read(self, index: int) -> np.ndarray:
        return self.rows[index]


class Linear:
    def __init__(self) -> None:
        self.weights = (
            np.random.default_rng(3).standard_normal((FEATURES, CLASSES)).astype(np.float32)
        )
        self.loaded = np.zeros((0, FEATURES), dtype=np.float32)

    def load(self, samples: np.ndarray) -> None:
        self.loaded = samples

    def unload(self) -> None:
        self.loaded = np.zeros((0, FEATURES), dtype=np.float32)

    def launch(self, positions: np.ndarray) -> Done:
        time.sleep(BATCH_SECONDS)  # a steady, model-like latency: LoadGen's smoke runs stay VALID
        labels = np.argmax(self.loaded[positions] @ self.weights, axis=1).astype(np.float32)
        return Done(labels.reshape(-1, 1))

    def warmup(self, batch: int) -> None:
        pass

    def describe(self) -> dict[str, Any]:
        return {"engine": "numpy"}


def _open(kind: str, args: argparse.Namespace, count: int | None) -> Opened:
    data = Data(min(count or SAMPLES, SAMPLES))
    model = Linear()
    truth = np.argmax(data.rows @ model.weights, axis=1)

    def score(responses: dict[int, bytes]) -> Score:
        good = int(
            sum(int(np.frombuffer(r, np.float32)[0]) == truth[i] for i, r in responses.items())
        )
        value = 100.0 * good / max(1, len(responses))
        if kind == "qa":
            line = f'{{"exact_match": {value:.3f}, "f1": {value:.3f}}}'
            return Score("f1", value, {}, [line], f"F1 {value:.3f}")
        line = f"accuracy={value:.3f}%, good={good}, total={len(responses)}"
        return Score("top1", value, {"good": good}, [line], f"top-1 {value:.3f}%")

    describe = {"backend": "numpy", "model": {"path": "tiny-linear.npy"}, "precision": "fp32"}
    return Opened(model, data, describe, score, max_batch=8)


def main(kind: str) -> int:
    name, model = ("bert-99", "bert") if kind == "qa" else ("resnet50", "resnet50")
    bench = Benchmark(
        name=name,
        loadgen_model=model,
        description="a tiny stand-in benchmark",
        add_flags=lambda p: None,
        check=lambda a: None,
        open=lambda a, c: _open(kind, a, c),
        smoke_count=SAMPLES,
        accuracy_target=accuracy_target(name),
    )
    return harness_main(bench)
