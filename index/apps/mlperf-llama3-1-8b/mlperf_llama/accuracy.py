"""ROUGE and the generation length of an accuracy log, as the reference's evaluation.py
scores llama3.1-8b: each response is the output token ids (int32), decoded with the model's
tokenizer (special tokens skipped), stripped, split into sentences (one per line);
ROUGE-1/2/L/Lsum F-measures with the Porter stemmer (Google's ``rouge_score``, what
``evaluate.load("rouge")`` runs), averaged over the samples, in percent. ``gen_len`` is, as
there, the total length in characters of those split predictions (``len(pred)`` of each
string: the round's 8,167,644 for 13,368 samples is about 611 characters each), which the
round bounds to 90-110 % of the reference's; ``gen_tok_len`` is the total of output tokens.

The split is ``nltk.sent_tokenize``, which needs NLTK's ``punkt_tab`` data (the reference
calls ``nltk.download("punkt")`` and ``("punkt_tab")``). None can be downloaded here: without
it the texts are left unsplit, ``sentence_split`` says so, and ROUGE-Lsum is then ROUGE-L
over the whole summary (the same figure for one-sentence summaries, not the round's
ROUGE-Lsum otherwise), which the summary line marks.
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


def postprocess(texts: list[str]) -> tuple[list[str], bool]:
    """The reference's ``postprocess_text``: stripped, one sentence per line; and whether
    NLTK's splitter was available for every text."""
    done = [sentences(t.strip()) for t in texts]
    return [t for t, _ in done], all(ok for _, ok in done)


def gen_len(texts: list[str]) -> int:
    """The reference's generation length of postprocessed texts: their total characters."""
    return sum(len(t) for t in texts)


def rouge(predictions: list[str], references: list[str]) -> dict[str, float]:
    """Mean ROUGE F-measures in percent of postprocessed predictions against references."""
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    totals = dict.fromkeys(METRICS, 0.0)
    for pred, ref in zip(predictions, references, strict=True):
        scores = scorer.score(ref, pred)
        for name in METRICS:
            totals[name] += scores[name].fmeasure
    count = max(len(predictions), 1)
    return {name: round(100 * totals[name] / count, 4) for name in METRICS}


def score(
    samples: dict[int, bytes],
    references: list[str],
    decode: Any,
    gen_len_reference: int | None,
    targets: dict[str, float],
) -> Score:
    outputs = {i: np.frombuffer(raw, dtype="<i4") for i, raw in samples.items()}
    order = sorted(outputs)
    preds, split_p = postprocess([decode(outputs[i].tolist()) for i in order])
    refs, split_r = postprocess([references[i] for i in order])
    values = rouge(preds, refs)
    length = gen_len(preds)
    tokens = int(sum(len(outputs[i]) for i in order))
    line = {**values, "gen_len": length, "gen_num": len(order), "gen_tok_len": tokens}
    details: dict[str, Any] = dict(line)
    split = split_p and split_r
    details["sentence_split"] = "nltk" if split else "none (NLTK punkt_tab data not installed)"
    if gen_len_reference:
        details["gen_len_reference"] = gen_len_reference
        details["gen_len_ok"] = 0.9 * gen_len_reference <= length <= 1.1 * gen_len_reference
    details["targets"] = targets
    details["passed_all"] = all(values[m] >= t for m, t in targets.items() if m in values)
    text = ", ".join(f"{m} {values[m]:.4f}" for m in METRICS)
    text += "" if split else " (unsplit: no NLTK punkt_tab data)"
    summary = f"{text}, gen_len {length} ({len(order)} samples, {tokens} tokens)"
    return Score("rouge1", values["rouge1"], details, [str(line)], summary)
