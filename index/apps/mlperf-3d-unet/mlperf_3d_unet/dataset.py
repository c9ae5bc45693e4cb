"""KiTS19 cases as the harness's dataset: sample ``i`` is case ``i``, preprocessed as the
reference does (float32 [1, D, H, W], each case its own size), with its label kept for
scoring. Preprocessing happens here, before LoadGen starts (the reference does it once,
ahead, into pickles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from kits19_seg import cases, preprocess


class Kits19Set:
    def __init__(self, root: Path, geometry: preprocess.Geometry, count: int | None) -> None:
        names = cases.case_names(root)
        cases.check(root, names)
        self.available = len(names)
        self.names = names[:count] if count is not None else names
        if not self.names:
            raise ValueError(f"{root} lists no cases")
        self.images: list[np.ndarray] = []
        self.labels: list[np.ndarray] = []
        for name in self.names:
            volume = cases.read(root, name)
            image, label = preprocess.preprocess(
                volume.image, volume.label, volume.spacing, geometry
            )
            self.images.append(image)
            self.labels.append(label)

    @property
    def count(self) -> int:
        return len(self.names)

    def read(self, index: int) -> np.ndarray:
        return self.images[index]
