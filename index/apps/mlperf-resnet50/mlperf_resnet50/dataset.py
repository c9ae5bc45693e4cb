"""The preprocessed ImageNet directory as the harness's dataset.

The directory holds ``val_map.txt`` and one ``<image>.npy`` per line of it (float32,
3x224x224 or 224x224x3, as ``imagenet-preprocessed/preprocess.py`` writes them). Sample
index ``i`` is line ``i`` of ``val_map.txt``, as the reference harness and its accuracy tool
assume. Samples are read when LoadGen loads them (untimed), always as NCHW float32.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SAMPLE_SHAPE_NCHW = (3, 224, 224)
SAMPLE_SHAPE_NHWC = (224, 224, 3)


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


class ImagenetSet:
    """The first ``count`` lines of ``val_map.txt`` (all when None, or fewer exist)."""

    def __init__(self, root: Path, count: int | None = None) -> None:
        entries = read_val_map(root / "val_map.txt")
        if count is not None:
            entries = entries[:count]
        if not entries:
            raise ValueError(f"{root / 'val_map.txt'} lists no samples")
        self.root = root
        self.entries = entries

    @property
    def count(self) -> int:
        return len(self.entries)

    @property
    def labels(self) -> list[int]:
        return [e.label for e in self.entries]

    def read(self, index: int) -> np.ndarray:
        path = self.root / f"{self.entries[index].name}.npy"
        return to_nchw(np.load(path), path).astype(np.float32, copy=False)
