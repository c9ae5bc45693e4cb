"""A SQuAD v1.1 file's features as the harness's dataset: sample ``i`` is feature ``i``
(int64 [3, 384]: input_ids, input_mask, segment_ids), as the reference's QSL counts them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from squad_qa import features


class SquadSet:
    def __init__(self, path: Path, vocab: Path, count: int | None) -> None:
        self.examples = features.read_squad(path)
        all_features = features.features(self.examples, features.tokenizer(vocab))
        self.features = all_features[:count] if count is not None else all_features
        self.available = len(all_features)
        if not self.features:
            raise ValueError(f"{path} has no questions")

    @property
    def count(self) -> int:
        return len(self.features)

    def read(self, index: int) -> np.ndarray:
        return self.features[index].inputs
