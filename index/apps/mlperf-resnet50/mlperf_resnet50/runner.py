"""The system under test and the LoadGen run.

LoadGen calls ``issue_queries`` from its own thread; the SUT splits queries into batches
of at most ``max_batch`` samples and queues them for one worker thread, so LoadGen's
thread never waits for inference. The worker coalesces queued work (Server and
MultiStream queries arrive a few samples at a time) up to ``max_batch``, keeps up to
``PIPELINE_DEPTH`` batches in flight, and completes each batch with one
``QuerySamplesComplete`` call. Per sample, the only Python work is building the response.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlperf_loadgen as lg
import numpy as np

from mlperf_resnet50 import MODEL_NAME
from mlperf_resnet50.backends import Backend, Pending
from mlperf_resnet50.batching import Work, WorkQueue
from mlperf_resnet50.dataset import ImagenetQsl

PIPELINE_DEPTH = 2
SCENARIOS = {
    "SingleStream": lg.TestScenario.SingleStream,
    "MultiStream": lg.TestScenario.MultiStream,
    "Server": lg.TestScenario.Server,
    "Offline": lg.TestScenario.Offline,
}
MODES = {"performance": lg.TestMode.PerformanceOnly, "accuracy": lg.TestMode.AccuracyOnly}


class Sut:
    """LoadGen's SUT callbacks over a backend and a QSL."""

    def __init__(self, backend: Backend, qsl: ImagenetQsl, max_batch: int, offset: int) -> None:
        self.backend = backend
        self.qsl = qsl
        self.max_batch = max_batch
        self.offset = offset
        self.queue = WorkQueue(max_batch)
        self.worker = threading.Thread(target=self._loop, name="sut-worker", daemon=True)
        self.worker.start()

    def issue_queries(self, samples: list[Any]) -> None:
        ids = np.fromiter((s.id for s in samples), dtype=np.uint64, count=len(samples))
        index = np.fromiter((s.index for s in samples), dtype=np.int64, count=len(samples))
        positions = self.qsl.positions_of(index)
        step = self.max_batch
        self.queue.put(
            [Work(ids[i : i + step], positions[i : i + step]) for i in range(0, len(ids), step)]
        )

    def flush_queries(self) -> None:
        """Nothing is held back: the worker always drains the queue."""

    def stop(self) -> None:
        self.queue.close()
        self.worker.join()

    def _loop(self) -> None:
        inflight: deque[tuple[np.ndarray, Pending]] = deque()
        while True:
            work = self.queue.take(block=not inflight)
            if work is None:
                if not inflight:
                    return  # closed and drained
                self._complete(*inflight.popleft())
                continue
            inflight.append((work.ids, self.backend.launch(work.positions)))
            if len(inflight) >= PIPELINE_DEPTH:
                self._complete(*inflight.popleft())

    def _complete(self, ids: np.ndarray, pending: Pending) -> None:
        labels = (pending.wait() + self.offset).astype(np.float32)
        base, size = labels.ctypes.data, labels.itemsize
        responses = [
            lg.QuerySampleResponse(int(q), base + i * size, size)
            for i, q in enumerate(ids.tolist())
        ]
        lg.QuerySamplesComplete(responses)  # copies the data before returning


@dataclass(frozen=True, slots=True)
class LoadgenOptions:
    scenario: str
    mode: str
    user_conf: Path | None
    target_qps: float | None
    target_latency_ms: float | None
    min_duration_ms: int | None
    max_duration_ms: int | None
    min_query_count: int | None
    max_query_count: int | None
    performance_sample_count: int | None
    samples_per_query: int | None


def _load_conf(settings: Any, options: LoadgenOptions, results_dir: Path) -> None:
    """mlperf.conf (built into LoadGen) for the scenario, then the user's conf if given."""
    path = options.user_conf
    if path is None:
        path = results_dir / "user.conf"
        path.write_text("# no --user-conf: LoadGen's built-in mlperf.conf settings only\n")
    if settings.FromConfig(str(path), MODEL_NAME, options.scenario, 1) != 0:
        raise ValueError(f"LoadGen could not read {path}")


def overrides(options: LoadgenOptions) -> dict[str, float | int]:
    """The flag-given settings, by TestSettings attribute; each departs from the rules."""
    out: dict[str, float | int] = {}
    if options.target_qps is not None:
        out["offline_expected_qps"] = options.target_qps
        out["server_target_qps"] = options.target_qps
    if options.target_latency_ms is not None:
        ns = int(options.target_latency_ms * 1e6)
        out["server_target_latency_ns"] = ns
        out["single_stream_expected_latency_ns"] = ns
        out["multi_stream_expected_latency_ns"] = ns
    pairs = {
        "min_duration_ms": options.min_duration_ms,
        "max_duration_ms": options.max_duration_ms,
        "min_query_count": options.min_query_count,
        "max_query_count": options.max_query_count,
        "performance_sample_count_override": options.performance_sample_count,
        "multi_stream_samples_per_query": options.samples_per_query,
    }
    out.update({k: v for k, v in pairs.items() if v is not None})
    return out


def test_settings(options: LoadgenOptions, results_dir: Path) -> Any:
    settings = lg.TestSettings()
    _load_conf(settings, options, results_dir)
    settings.scenario = SCENARIOS[options.scenario]
    settings.mode = MODES[options.mode]
    for key, value in overrides(options).items():
        setattr(settings, key, value)
    return settings


def performance_count(requested: int | None, settings: Any, total: int) -> int:
    """Samples LoadGen loads for performance runs: the flag, else the conf's (1024 for
    ResNet-50), never more than the dataset holds."""
    wanted = requested or int(settings.performance_sample_count_override) or total
    return min(wanted, total)


def log_settings(results_dir: Path) -> Any:
    output = lg.LogOutputSettings()
    output.outdir = str(results_dir)
    output.copy_summary_to_stdout = False
    settings = lg.LogSettings()
    settings.log_output = output
    settings.enable_trace = False
    return settings


def run_test(
    sut: Sut,
    qsl: ImagenetQsl,
    performance_count: int,
    settings: Any,
    results_dir: Path,
    audit_conf: Path,
) -> None:
    """One LoadGen test; LoadGen writes its logs into ``results_dir``. ``audit_conf`` is
    read only if it exists (the compliance tests put one in the working directory)."""
    sut_handle = lg.ConstructSUT(sut.issue_queries, sut.flush_queries)
    qsl_handle = lg.ConstructQSL(
        qsl.count, performance_count, qsl.load_query_samples, qsl.unload_query_samples
    )
    try:
        lg.StartTestWithLogSettings(
            sut_handle, qsl_handle, settings, log_settings(results_dir), str(audit_conf)
        )
    finally:
        sut.stop()
        lg.DestroyQSL(qsl_handle)
        lg.DestroySUT(sut_handle)
