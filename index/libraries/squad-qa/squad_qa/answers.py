"""Start/end logits to answer text, as the reference's accuracy-squad.py chooses it.

For each feature the ``N_BEST`` highest start and end logits are paired; a pair is kept
when both are context tokens, the start is in its most-context window, end >= start and
the span is at most ``MAX_ANSWER`` tokens. An example's answer is the kept pair with the
highest start + end logit over all its features, cut from the context by character span.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from squad_qa.features import Example, Feature

N_BEST = 20
MAX_ANSWER = 30


def best_span(logits: np.ndarray, feature: Feature) -> tuple[float, int, int] | None:
    """(score, start token, end token) of the best valid span; ``logits`` is [seq, 2]."""
    start_logits, end_logits = logits[:, 0], logits[:, 1]
    starts = np.argsort(-start_logits, kind="stable")[:N_BEST]
    ends = np.argsort(-end_logits, kind="stable")[:N_BEST]
    best: tuple[float, int, int] | None = None
    for s in starts.tolist():
        if feature.spans[s] is None or not feature.max_context[s]:
            continue
        for e in ends.tolist():
            if feature.spans[e] is None or e < s or e - s + 1 > MAX_ANSWER:
                continue
            score = float(start_logits[s] + end_logits[e])
            if best is None or score > best[0]:
                best = (score, s, e)
    return best


def predict(
    examples: list[Example], features: list[Feature], logits: Mapping[int, np.ndarray]
) -> dict[str, str]:
    """The answer text of every example with at least one scored feature (by qas_id);
    ``logits`` maps feature index to its [seq, 2] logits."""
    spans = predict_spans(examples, features, logits)
    return {qas_id: examples_text for qas_id, (examples_text, _) in spans.items()}


def predict_spans(
    examples: list[Example], features: list[Feature], logits: Mapping[int, np.ndarray]
) -> dict[str, tuple[str, int]]:
    """As ``predict``, with each answer's character offset in its context (-1: none)."""
    best: dict[int, tuple[float, Feature, int, int]] = {}
    for index, values in logits.items():
        feature = features[index]
        span = best_span(values, feature)
        if span is None:
            best.setdefault(feature.example_index, (float("-inf"), feature, -1, -1))
            continue
        current = best.get(feature.example_index)
        if current is None or span[0] > current[0]:
            best[feature.example_index] = (span[0], feature, span[1], span[2])
    return {examples[i].qas_id: _span(examples[i], *rest) for i, (_, *rest) in best.items()}


def _span(example: Example, feature: Feature, start: int, end: int) -> tuple[str, int]:
    if start < 0:
        return "", -1
    first, last = feature.spans[start], feature.spans[end]
    assert first is not None and last is not None
    return example.context[first[0] : last[1]], first[0]
