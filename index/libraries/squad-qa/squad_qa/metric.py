"""The official SQuAD v1.1 metric (evaluate-v1.1.py's rules): exact match and token F1
against every ground-truth answer, the best kept, averaged in percent."""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from squad_qa.features import Example

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCTUATION = set(string.punctuation)


def normalize_answer(text: str) -> str:
    """Lower case, no punctuation, no articles, single spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def f1_score(prediction: str, truth: str) -> float:
    pred, gold = normalize_answer(prediction).split(), normalize_answer(truth).split()
    common = sum((Counter(pred) & Counter(gold)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(gold)
    return 2 * precision * recall / (precision + recall)


def exact_match(prediction: str, truth: str) -> float:
    return float(normalize_answer(prediction) == normalize_answer(truth))


@dataclass(frozen=True, slots=True)
class Scores:
    exact_match: float
    f1: float
    total: int


def evaluate(examples: Iterable[Example], predictions: Mapping[str, str]) -> Scores:
    """Over the examples that have a prediction (all of them in a full accuracy run)."""
    em = f1 = 0.0
    total = 0
    for example in examples:
        if example.qas_id not in predictions:
            continue
        answer = predictions[example.qas_id]
        em += max(exact_match(answer, t) for t in example.answers)
        f1 += max(f1_score(answer, t) for t in example.answers)
        total += 1
    if total == 0:
        return Scores(0.0, 0.0, 0)
    return Scores(100.0 * em / total, 100.0 * f1 / total, total)
