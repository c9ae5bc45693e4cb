"""F1 and exact match of an accuracy log, as the reference's accuracy-squad.py scores it.

Each response is the feature's logits as float32 [384, 2] (start, end): the reference
SUT's ``np.stack([start, end], axis=-1)``. Questions are scored when at least one of their
features was answered (all of them in a full accuracy run).
"""

from __future__ import annotations

import json

import numpy as np
from mlperf_harness.report import Score
from squad_qa import answers, metric
from squad_qa.features import MAX_SEQ, Example, Feature


def decode(raw: bytes) -> np.ndarray:
    return np.frombuffer(raw, dtype="<f4").reshape(MAX_SEQ, 2)


def score(samples: dict[int, bytes], examples: list[Example], feats: list[Feature]) -> Score:
    logits = {index: decode(raw) for index, raw in samples.items()}
    scores = metric.evaluate(examples, answers.predict(examples, feats, logits))
    em, f1 = round(scores.exact_match, 4), round(scores.f1, 4)
    return Score(
        metric="f1",
        value=scores.f1,
        details={"exact_match": em, "questions": scores.total, "features": len(samples)},
        # evaluate-v1.1.py's output line, the form the submission checker matches
        lines=[json.dumps({"exact_match": em, "f1": f1})],
        text=f"F1 {f1:.3f}, exact match {em:.3f} ({scores.total} questions)",
    )
