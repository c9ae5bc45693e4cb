"""A SQuAD v1.1-shaped dev set in the synthetic BERT's vocabulary, answered by the model.

Writes ``dev-v1.1.json`` (``{"version": "1.1", "data": [{"title", "paragraphs": [{"context",
"qas": [{"id", "question", "answers": [{"text", "answer_start"}]}]}]}]}``) and
``squad.json``. Contexts are sentences of seeded made-up words from ``vocab.txt`` (every
eighth one long enough to need several 384-token windows); each question's answer is what
the synthetic model itself predicts through ``squad_qa`` (the code the benchmark scores
with), so an accuracy run of the pair must give F1 = exact match = 100.
Needs numpy, onnxruntime, tokenizers and squad_qa. Exit 0 on success, 2 on bad flags.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

BATCH = 16
LONG_EVERY = 8


def words_of(vocab: Path) -> list[str]:
    return [w for w in vocab.read_text().split() if w.isalpha()]


def sentence(rng: np.random.Generator, words: list[str], end: str) -> str:
    picked = [str(w) for w in rng.choice(words, size=int(rng.integers(6, 15)))]
    if rng.random() < 0.3:
        picked[int(rng.integers(1, len(picked)))] += ","
    return " ".join(picked).capitalize() + end


def questions(rng: np.random.Generator, words: list[str], count: int) -> list[tuple[str, str]]:
    """(context, question) pairs."""
    out = []
    for i in range(count):
        sentences = 40 if i % LONG_EVERY == LONG_EVERY - 1 else int(rng.integers(3, 9))
        context = " ".join(sentence(rng, words, ".") for _ in range(sentences))
        out.append((context, sentence(rng, words, "?")))
    return out


def logits_of(model: Path, feats: list) -> dict[int, np.ndarray]:  # type: ignore[type-arg]
    import onnxruntime as ort

    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    out: dict[int, np.ndarray] = {}
    for start in range(0, len(feats), BATCH):
        x = np.stack([f.inputs for f in feats[start : start + BATCH]])
        feed = {"input_ids": x[:, 0], "input_mask": x[:, 1], "segment_ids": x[:, 2]}
        begin, end = session.run(["output_start_logits", "output_end_logits"], feed)
        for i, row in enumerate(np.stack([begin, end], axis=-1)):
            out[start + i] = row
    return out


def main(argv: list[str] | None = None) -> int:
    from squad_qa import answers, features

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", type=Path, required=True, help="the synthetic model.onnx")
    p.add_argument("--vocab", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--count", type=int, default=200, help="questions")
    args = p.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    pairs = questions(rng, words_of(args.vocab), args.count)
    examples = [
        features.Example(f"synthetic-{i:05d}", q, c, ("",)) for i, (c, q) in enumerate(pairs)
    ]
    tok = features.tokenizer(args.vocab)
    feats = features.features(examples, tok)
    spans = answers.predict_spans(examples, feats, logits_of(args.model, feats))
    paragraphs = [
        {
            "context": e.context,
            "qas": [
                {
                    "id": e.qas_id,
                    "question": e.question,
                    "answers": [{"text": spans[e.qas_id][0], "answer_start": spans[e.qas_id][1]}],
                }
            ],
        }
        for e in examples
    ]
    data = {"version": "1.1", "data": [{"title": "synthetic", "paragraphs": paragraphs}]}
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=1, sort_keys=True) + "\n"
    (args.out / "dev-v1.1.json").write_text(text)
    meta = {
        "seed": args.seed,
        "questions": len(examples),
        "features": len(feats),
        "model_sha256": hashlib.sha256(args.model.read_bytes()).hexdigest(),
        "sha256": hashlib.sha256(text.encode()).hexdigest(),
    }
    (args.out / "squad.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(args.out / "dev-v1.1.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
