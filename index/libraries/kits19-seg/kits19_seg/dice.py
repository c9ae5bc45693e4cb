"""DICE of a predicted segmentation against the ground truth, as ``accuracy_kits.py``
computes it: per case and class (kidney 1, tumour 2; background left out),
(2 |P and T| + 1e-6) / (|P| + |T| + 1e-6); a case's composite is the mean of its two
classes, and the benchmark's score is the mean composite over the cases (a case that
failed, NaN there, counts as 0)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SMOOTH = 1e-6
FOREGROUND = (1, 2)  # kidney, tumour


@dataclass(frozen=True, slots=True)
class CaseDice:
    case: str
    kidney: float
    tumour: float

    @property
    def composite(self) -> float:
        return (self.kidney + self.tumour) / 2


@dataclass(frozen=True, slots=True)
class Scores:
    cases: tuple[CaseDice, ...]

    def _mean(self, values: list[float]) -> float:
        clean = [0.0 if math.isnan(v) else v for v in values]
        return sum(clean) / len(clean) if clean else 0.0

    @property
    def mean(self) -> float:
        return self._mean([c.composite for c in self.cases])

    @property
    def kidney(self) -> float:
        return self._mean([c.kidney for c in self.cases])

    @property
    def tumour(self) -> float:
        return self._mean([c.tumour for c in self.cases])


def class_dice(prediction: np.ndarray, target: np.ndarray, cls: int) -> float:
    p, t = prediction == cls, target == cls
    both = float(np.count_nonzero(p & t))
    total = float(np.count_nonzero(p) + np.count_nonzero(t))
    return (2.0 * both + SMOOTH) / (total + SMOOTH)


def case_dice(case: str, prediction: np.ndarray, target: np.ndarray) -> CaseDice:
    if prediction.shape != target.shape:
        raise ValueError(f"{case}: prediction {prediction.shape} and label {target.shape} differ")
    kidney, tumour = (class_dice(prediction, target, c) for c in FOREGROUND)
    return CaseDice(case, kidney, tumour)
