"""What a benchmark app gives the harness: its name, flags, model and data, and metric.

An app builds one ``Benchmark`` and calls ``mlperf_harness.cli.main(benchmark)``. Only
``open`` and the returned ``Opened.score`` touch the app's model, data and metric; the
harness owns LoadGen, profiles, the results layout and the report.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlperf_harness.report import Score
from mlperf_harness.sut import Backend, Dataset
from mlperf_harness.tokens import Tokens


class UsageError(Exception):
    """Flags or inputs that cannot work; exit code 2. Write "what; hint: what to do"."""


@dataclass(frozen=True, slots=True)
class EngineOptions:
    """What an app's backend is opened with: the model file and the shared engine flags
    (``cli.add_engine``: ``--device``, ``--threads``)."""

    model: Path
    device: str
    threads: int | None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> EngineOptions:
        return cls(args.model, args.device, args.threads)


@dataclass(frozen=True, slots=True)
class Opened:
    """An app's model and data, ready to run."""

    backend: Backend
    dataset: Dataset
    #: the app's part of result.json's "run" (backend, device, model, dataset, ...)
    describe: dict[str, Any]
    #: scores an accuracy run: each sample's response bytes by sample index
    score: Callable[[dict[int, bytes]], Score]
    max_batch: int
    warmup_batch: int = 2
    #: an LLM's responses are token ids: served by ``tokens.TokenSut`` (TTFT, TPOT)
    tokens: Tokens | None = None


@dataclass(frozen=True, slots=True)
class Benchmark:
    name: str  # the MLPerf benchmark name: resnet50, bert-99, bert-99.9
    loadgen_model: str  # the model's name in mlperf.conf: resnet50, bert
    description: str
    add_flags: Callable[[argparse.ArgumentParser], None]
    #: fills derived defaults and raises UsageError for flags that cannot work
    check: Callable[[argparse.Namespace], None]
    #: loads model and data; the int is how many samples the run uses (None: all)
    open: Callable[[argparse.Namespace, int | None], Opened]
    smoke_count: int = 256
    #: accuracy target in the metric's unit: the reference's value x the level (0.99)
    accuracy_target: float | None = None
    extra_versions: tuple[str, ...] = field(default_factory=tuple)
