"""ROUGE and the generation length of an accuracy log, as the reference's evaluation.py
scores llama3.1-8b: each response is the output token ids (int32), decoded with the model's
tokenizer (special tokens skipped), stripped; ROUGE-1/2/L/Lsum F-measures with the Porter
stemmer (Google's ``rouge_score``, what ``evaluate.load("rouge")`` runs), averaged over the
samples, in percent; ``gen_len`` the total of output tokens, which the round bounds to
90-110 % of the reference's.

ROUGE-Lsum needs one sentence per line: the reference splits with ``nltk.sent_tokenize``,
which needs NLTK's ``punkt`` data. Without it (none is downloaded here) the summaries are
scored unsplit, and the details say so.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from mlperf_harness.report import Score

METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


def sentences(text: str) -> tuple[str, bool]:
    """``text`` one sentence per line, and whether NLTK's splitter was available."""
    try:
        import nltk

        return "\n".join(nltk.sent_tokenize(text)), True
    except (ImportError, LookupError):
        return text, False


def rouge(predictions: list[str], references: list[str]) -> tuple[dict[str, float], bool]:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    totals = dict.fromkeys(METRICS, 0.0)
    split = True
    for pred, ref in zip(predictions, references, strict=True):
        (pred_s, ok_p), (ref_s, ok_r) = sentences(pred.strip()), sentences(ref.strip())
        split = split and ok_p and ok_r
        scores = scorer.score(ref_s, pred_s)
        for name in METRICS:
            totals[name] += scores[name].fmeasure
    count = max(len(predictions), 1)
    return {name: round(100 * totals[name] / count, 4) for name in METRICS}, split


def score(
    samples: dict[int, bytes],
    references: list[str],
    decode: Any,
    gen_len_reference: int | None,
    targets: dict[str, float],
) -> Score:
    outputs = {i: np.frombuffer(raw, dtype="<i4") for i, raw in samples.items()}
    order = sorted(outputs)
    texts = [decode(outputs[i].tolist()) for i in order]
    values, split = rouge(texts, [references[i] for i in order])
    gen_len = int(sum(len(outputs[i]) for i in order))
    details: dict[str, Any] = {**values, "gen_len": gen_len, "gen_num": len(order)}
    details["sentence_split"] = "nltk" if split else "none (NLTK punkt data not installed)"
    if gen_len_reference:
        details["gen_len_reference"] = gen_len_reference
        details["gen_len_ok"] = 0.9 * gen_len_reference <= gen_len <= 1.1 * gen_len_reference
    details["targets"] = targets
    details["passed_all"] = all(values[m] >= t for m, t in targets.items() if m in values)
    line = {**values, "gen_len": gen_len, "gen_num": len(order)}
    text = ", ".join(f"{m} {values[m]:.4f}" for m in METRICS) + f", gen_len {gen_len}"
    summary = f"{text} ({len(order)} samples)"
    return Score("rouge1", values["rouge1"], details, [str(line)], summary)
