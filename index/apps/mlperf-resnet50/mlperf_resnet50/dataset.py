"""The query sample library over a preprocessed ImageNet directory.

The directory holds ``val_map.txt`` and one ``<image>.npy`` per line of it (float32,
3x224x224 or 224x224x3, as ``imagenet-preprocessed/preprocess.py`` writes them). Sample
index ``i`` is line ``i`` of ``val_map.txt``, as the reference harness and its accuracy tool
assume. LoadGen asks for samples to be loaded before timing starts; they are read into one
NCHW float32 array and handed to the backend, which places them where it computes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

SAMPLE_SHAPE_NCHW = (3, 224, 224)
SAMPLE_SHAPE_NHWC = (224, 224, 3)


class SampleSink(Protocol):
    """Where loaded samples go: the backend."""

    def load(self, samples: np.ndarray) -> None: ...

    def unload(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Entry:
    name: str
    label: int


def read_val_map(path: Path) -> list[Entry]:
    entries = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 2:
            entries.append(Entry(fields[0], int(fields[1])))
    return entries


def to_nchw(sample: np.ndarray, path: Path) -> np.ndarray:
    if sample.shape == SAMPLE_SHAPE_NCHW:
        return sample
    if sample.shape == SAMPLE_SHAPE_NHWC:
        nchw: np.ndarray = sample.transpose(2, 0, 1)
        return nchw
    raise ValueError(f"{path}: shape {sample.shape}, expected 3x224x224 or 224x224x3")


class ImagenetQsl:
    """LoadGen's QSL callbacks plus the map from sample index to loaded position."""

    def __init__(self, root: Path, sink: SampleSink, count: int | None = None) -> None:
        entries = read_val_map(root / "val_map.txt")
        if count is not None:
            if count > len(entries):
                raise ValueError(f"--count {count} exceeds the {len(entries)} samples in {root}")
            entries = entries[:count]
        if not entries:
            raise ValueError(f"{root / 'val_map.txt'} lists no samples")
        self.root = root
        self.entries = entries
        self.sink = sink
        self.positions = np.full(len(entries), -1, dtype=np.int64)

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def labels(self) -> list[int]:
        return [e.label for e in self.entries]

    def read(self, index: int) -> np.ndarray:
        path = self.root / f"{self.entries[index].name}.npy"
        return to_nchw(np.load(path), path).astype(np.float32, copy=False)

    def load_query_samples(self, indices: list[int]) -> None:
        """LoadGen callback (untimed): read the samples and hand them to the backend."""
        batch = np.empty((len(indices), *SAMPLE_SHAPE_NCHW), dtype=np.float32)
        for pos, index in enumerate(indices):
            batch[pos] = self.read(index)
        self.positions[:] = -1
        self.positions[np.asarray(indices, dtype=np.int64)] = np.arange(len(indices))
        self.sink.load(batch)

    def unload_query_samples(self, indices: list[int]) -> None:
        """LoadGen callback: drop the loaded set."""
        self.positions[:] = -1
        self.sink.unload()

    def positions_of(self, indices: np.ndarray) -> np.ndarray:
        """Loaded positions of sample indices (a vectorised lookup)."""
        found: np.ndarray = self.positions[indices]
        return found
