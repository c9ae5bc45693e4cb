"""LLM benchmarks under LoadGen: each response is the generated token ids (any length),
reported with its token count (LoadGen's ``use_token_latencies``: tokens per second, and
``token_count`` in the accuracy log); in every scenario but Offline the first token is also
reported the moment it exists (``FirstTokenComplete``), so the summary has TTFT (time to
first token) and TPOT (time per output token).

A token backend has the ``Backend`` protocol (``launch`` serves calibration) plus
``generate(position, on_first) -> np.ndarray``: the sample's output token ids (``dtype``),
calling ``on_first(token)`` once when the first one is known. Samples are generated one at
a time by one worker thread, so LoadGen's thread never waits for inference.

``MLPERF_HARNESS_FAULT=first-token`` makes the SUT report a first token that differs from
the output's (the token id plus one): a fault injected by the tests to prove that TEST06
catches it. Nothing else reads it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import mlperf_loadgen as lg
import numpy as np

from mlperf_harness.batching import Work, WorkQueue
from mlperf_harness.sut import Backend, Qsl

FAULT_ENV = "MLPERF_HARNESS_FAULT"


@dataclass(frozen=True, slots=True)
class Tokens:
    """What an LLM benchmark tells the harness about its responses."""

    eos_token_id: int
    dtype: str = "int32"  # the accuracy log's element type (the reference's np.int32)


class TokenBackend(Backend, Protocol):
    def generate(self, position: int, on_first: Callable[[int], None]) -> np.ndarray: ...


def reports_first_token(scenario: str) -> bool:
    """Whether the first token is reported on its own: in every scenario but Offline, as
    the round's TEST06 expects (its first-token check is skipped for Offline only)."""
    return scenario != "Offline"


class TokenSut:
    """LoadGen's SUT callbacks over a token backend; ``on_complete(n)`` after each sample."""

    def __init__(
        self,
        backend: TokenBackend,
        qsl: Qsl,
        tokens: Tokens,
        report_first: bool,
        on_complete: Callable[[int], None],
    ) -> None:
        self.backend = backend
        self.qsl = qsl
        self.dtype = np.dtype(tokens.dtype)
        self.report_first = report_first
        self.fault = os.environ.get(FAULT_ENV) == "first-token"
        self.on_complete = on_complete
        self.queue = WorkQueue(1)
        self.worker = threading.Thread(target=self._loop, name="token-sut", daemon=True)
        self.worker.start()

    def issue_queries(self, samples: list[Any]) -> None:
        ids = np.fromiter((s.id for s in samples), dtype=np.uint64, count=len(samples))
        index = np.fromiter((s.index for s in samples), dtype=np.int64, count=len(samples))
        positions = self.qsl.positions_of(index)
        self.queue.put([Work(ids[i : i + 1], positions[i : i + 1]) for i in range(len(ids))])

    def flush_queries(self) -> None:
        """Nothing is held back: the worker always drains the queue."""

    def stop(self) -> None:
        self.queue.close()
        self.worker.join()

    def _loop(self) -> None:
        while (work := self.queue.take(block=True)) is not None:
            for query, position in zip(work.ids.tolist(), work.positions.tolist(), strict=True):
                self._serve(int(query), int(position))

    def _serve(self, query: int, position: int) -> None:
        def first(token: int) -> None:
            if self.report_first:
                reported = token + 1 if self.fault else token
                row = np.array([reported], dtype=self.dtype)
                lg.FirstTokenComplete([lg.QuerySampleResponse(query, row.ctypes.data, row.nbytes)])

        out = np.ascontiguousarray(self.backend.generate(position, first), dtype=self.dtype)
        response = lg.QuerySampleResponse(query, out.ctypes.data, out.nbytes, len(out))
        lg.QuerySamplesComplete([response])  # copies the data before returning
        self.on_complete(1)
