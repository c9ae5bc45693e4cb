"""The query sample library and the system under test, over an app's dataset and backend.

The app supplies a ``Dataset`` (``count`` samples, ``read(i)`` gives sample ``i`` as one
array, of one shape for every sample or, for volumes of different sizes, not: see
``stack``) and a ``Backend`` (``load`` the stacked loaded samples, untimed;
``launch(positions)`` starts a batch and returns a ``Pending`` whose ``wait()`` gives one
response row per sample, e.g. a float32 label or [seq, 2] float32 logits, as one array; or,
where responses differ in size (a detector's boxes), a sequence of one array per sample).
Each row's bytes become the sample's LoadGen response, which is what
``mlperf_log_accuracy.json`` records.

LoadGen calls ``issue_queries`` from its own thread; the SUT splits queries into batches of
at most ``max_batch`` samples and queues them for one worker thread, so LoadGen's thread
never waits for inference. The worker coalesces queued work (Server and MultiStream
queries arrive a few samples at a time) up to ``max_batch``, keeps up to
``PIPELINE_DEPTH`` batches in flight, and completes each batch with one
``QuerySamplesComplete`` call.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any, Protocol

import mlperf_loadgen as lg
import numpy as np

from mlperf_harness.batching import Work, WorkQueue

PIPELINE_DEPTH = 2


#: A batch's responses: one array of equal rows, or one array per sample (any sizes).
Rows = np.ndarray | Sequence[np.ndarray]


class Pending(Protocol):
    def wait(self) -> Rows: ...


class Backend(Protocol):
    def load(self, samples: np.ndarray) -> None: ...

    def unload(self) -> None: ...

    def launch(self, positions: np.ndarray) -> Pending: ...

    def warmup(self, batch: int) -> None: ...

    def describe(self) -> dict[str, Any]: ...


class Dataset(Protocol):
    @property
    def count(self) -> int: ...

    def read(self, index: int) -> np.ndarray: ...


class Done:
    """A result computed synchronously."""

    __slots__ = ("rows",)

    def __init__(self, rows: Rows) -> None:
        self.rows = rows

    def wait(self) -> Rows:
        return self.rows


def stack(rows: list[np.ndarray]) -> np.ndarray:
    """The loaded samples as one array: stacked when they share a shape, else (volumes
    of different sizes, as 3D-UNet's) a 1-D object array whose element ``i`` is row ``i``,
    so positions index both the same way."""
    if len({row.shape for row in rows}) <= 1:
        return np.stack(rows)
    out = np.empty(len(rows), dtype=object)
    for i, row in enumerate(rows):
        out[i] = row
    return out


class Qsl:
    """LoadGen's QSL callbacks plus the map from sample index to loaded position."""

    def __init__(self, dataset: Dataset, backend: Backend) -> None:
        self.dataset = dataset
        self.backend = backend
        self.positions = np.full(dataset.count, -1, dtype=np.int64)

    @property
    def count(self) -> int:
        return self.dataset.count

    def load_query_samples(self, indices: list[int]) -> None:
        """LoadGen callback (untimed): read the samples and hand them to the backend."""
        self.positions[:] = -1
        self.positions[np.asarray(indices, dtype=np.int64)] = np.arange(len(indices))
        self.backend.load(stack([self.dataset.read(i) for i in indices]))

    def unload_query_samples(self, indices: list[int]) -> None:
        self.positions[:] = -1
        self.backend.unload()

    def positions_of(self, indices: np.ndarray) -> np.ndarray:
        found: np.ndarray = self.positions[indices]
        return found


class Sut:
    """LoadGen's SUT callbacks over a backend and a QSL; ``on_complete(n)`` is called
    from the worker thread after each batch (progress)."""

    def __init__(
        self, backend: Backend, qsl: Qsl, max_batch: int, on_complete: Callable[[int], None]
    ) -> None:
        self.backend = backend
        self.qsl = qsl
        self.max_batch = max_batch
        self.on_complete = on_complete
        self.completed = 0
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
        rows = pending.wait()
        if isinstance(rows, np.ndarray) and rows.dtype != object:
            rows = np.ascontiguousarray(rows)
            size = rows.nbytes // max(len(ids), 1)
            base = rows.ctypes.data
            responses = [
                lg.QuerySampleResponse(int(q), base + i * size, size)
                for i, q in enumerate(ids.tolist())
            ]
        else:  # one array per sample; `kept` holds them until LoadGen has copied them
            kept = [np.ascontiguousarray(r) for r in rows]
            responses = [
                lg.QuerySampleResponse(int(q), r.ctypes.data, r.nbytes)
                for q, r in zip(ids.tolist(), kept, strict=True)
            ]
        lg.QuerySamplesComplete(responses)  # copies the data before returning
        self.completed += len(ids)
        self.on_complete(len(ids))


def run_test(
    sut: Sut, qsl: Qsl, performance_count: int, settings: Any, log: Any, audit: str
) -> None:
    """One LoadGen test. ``audit`` is the audit.config path LoadGen reads if it exists."""
    sut_handle = lg.ConstructSUT(sut.issue_queries, sut.flush_queries)
    qsl_handle = lg.ConstructQSL(
        qsl.count, performance_count, qsl.load_query_samples, qsl.unload_query_samples
    )
    try:
        lg.StartTestWithLogSettings(sut_handle, qsl_handle, settings, log, audit)
    finally:
        lg.DestroyQSL(qsl_handle)
        lg.DestroySUT(sut_handle)
