"""Batches waiting for the SUT's worker thread (numpy and threading only).

``WorkQueue.take`` merges queued work up to the batch limit, so the per-sample queries of
Server and the small ones of MultiStream still reach the engine as batches.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class Work:
    ids: np.ndarray  # LoadGen response ids
    positions: np.ndarray  # loaded positions of the samples


class WorkQueue:
    """Batches waiting for the worker; ``take`` merges them up to a size limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: deque[Work] = deque()
        self.closed = False
        self.cond = threading.Condition()

    def put(self, items: list[Work]) -> None:
        with self.cond:
            self.items.extend(items)
            self.cond.notify()

    def close(self) -> None:
        with self.cond:
            self.closed = True
            self.cond.notify()

    def take(self, block: bool) -> Work | None:
        """Merged work, or None when nothing is queued (and not blocking, or closed)."""
        with self.cond:
            while block and not self.items and not self.closed:
                self.cond.wait()
            return self._merge() if self.items else None

    def _merge(self) -> Work:
        first = self.items.popleft()
        parts, size = [first], len(first.ids)
        while self.items and size + len(self.items[0].ids) <= self.limit:
            size += len(self.items[0].ids)
            parts.append(self.items.popleft())
        if len(parts) == 1:
            return first
        return Work(
            np.concatenate([p.ids for p in parts]), np.concatenate([p.positions for p in parts])
        )
