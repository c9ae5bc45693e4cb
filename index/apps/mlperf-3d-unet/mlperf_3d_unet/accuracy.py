"""The mean DICE of an accuracy log, as the reference's accuracy_kits.py scores it.

Each response is the case's segmentation as uint8 over its preprocessed shape (the
reference SUT's response), compared with the case's preprocessed label.
"""

from __future__ import annotations

import numpy as np
from kits19_seg import dice
from mlperf_harness.report import Score


def decode(raw: bytes, shape: tuple[int, ...]) -> np.ndarray:
    return np.frombuffer(raw, dtype=np.uint8).reshape(shape)


def score(samples: dict[int, bytes], names: list[str], labels: list[np.ndarray]) -> Score:
    per_case = tuple(
        dice.case_dice(names[i], decode(raw, labels[i].shape), labels[i])
        for i, raw in sorted(samples.items())
    )
    scores = dice.Scores(per_case)
    mean, kidney, tumour = scores.mean, scores.kidney, scores.tumour
    return Score(
        metric="dice",
        value=mean,
        details={
            "kidney": round(kidney, 6),
            "tumour": round(tumour, 6),
            "cases": len(per_case),
            "per_case": {
                c.case: {"kidney": round(c.kidney, 6), "tumour": round(c.tumour, 6)}
                for c in per_case
            },
        },
        # accuracy_kits.py's closing line, the form the submission checker matches
        lines=[f"Accuracy: mean = {mean:.5f}, kidney = {kidney:.4f}, tumor = {tumour:.4f}"],
        text=f"mean DICE {mean:.5f} (kidney {kidney:.4f}, tumour {tumour:.4f}; "
        f"{len(per_case)} cases)",
    )
