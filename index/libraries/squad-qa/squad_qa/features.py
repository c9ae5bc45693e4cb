"""SQuAD examples to BERT features, as the MLPerf reference builds them.

Each question is tokenised (at most ``MAX_QUERY`` tokens), each context is cut into
windows of at most ``MAX_SEQ - len(query) - 3`` tokens that start ``DOC_STRIDE`` tokens
apart, and each window becomes ``[CLS] query [SEP] window [SEP]`` padded to ``MAX_SEQ``
(input_ids, input_mask, segment_ids). One feature is one LoadGen sample (10,833 for the
dev set). Tokenisation is the ``tokenizers`` library's BERT WordPiece (lower case, accents
stripped, punctuation split), the same rules as the reference's ``BertTokenizer``; each
context token keeps its character span, so an answer is cut from the original context
instead of rebuilt from word pieces (the reference's ``get_final_text``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

MAX_SEQ = 384
MAX_QUERY = 64
DOC_STRIDE = 128


@dataclass(frozen=True, slots=True)
class Example:
    qas_id: str
    question: str
    context: str
    answers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Feature:
    example_index: int
    inputs: np.ndarray  # int64 [3, MAX_SEQ]: input_ids, input_mask, segment_ids
    #: per token: (start, end) character span in the context, or None (query, specials)
    spans: tuple[tuple[int, int] | None, ...]
    #: per token: whether this window gives the token its most context (reference rule)
    max_context: tuple[bool, ...]


def read_squad(path: Path) -> list[Example]:
    """Every question of a SQuAD v1.1 JSON file, in file order."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    return [
        Example(qa["id"], qa["question"], para["context"], tuple(a["text"] for a in qa["answers"]))
        for article in data
        for para in article["paragraphs"]
        for qa in para["qas"]
    ]


def tokenizer(vocab: Path) -> Any:
    from tokenizers import BertWordPieceTokenizer

    return BertWordPieceTokenizer(str(vocab), lowercase=True)


def _windows(length: int, room: int) -> list[tuple[int, int]]:
    """(start, length) of each window over ``length`` context tokens."""
    out, start = [], 0
    while True:
        size = min(length - start, room)
        out.append((start, size))
        if start + size >= length:
            return out
        start += min(size, DOC_STRIDE)


def _max_context(windows: list[tuple[int, int]], index: int, position: int) -> bool:
    """The reference's _check_is_max_context: score = min(left, right) + 0.01 x length."""
    best, best_index = -1.0, -1
    for i, (start, size) in enumerate(windows):
        if not start <= position < start + size:
            continue
        score = min(position - start, start + size - 1 - position) + 0.01 * size
        if score > best:
            best, best_index = score, i
    return best_index == index


def example_features(example: Example, index: int, tok: Any) -> list[Feature]:
    query = tok.encode(example.question, add_special_tokens=False).ids[:MAX_QUERY]
    context = tok.encode(example.context, add_special_tokens=False)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    room = MAX_SEQ - len(query) - 3
    windows = _windows(len(context.ids), room)
    out = []
    for w, (start, size) in enumerate(windows):
        ids = [cls, *query, sep, *context.ids[start : start + size], sep]
        head = len(query) + 2
        spans: list[tuple[int, int] | None] = [None] * head
        spans += [tuple(context.offsets[start + i]) for i in range(size)]  # type: ignore[misc]
        spans += [None] * (MAX_SEQ - len(spans))
        maxc = [False] * head + [_max_context(windows, w, start + i) for i in range(size)]
        maxc += [False] * (MAX_SEQ - len(maxc))
        inputs = np.zeros((3, MAX_SEQ), dtype=np.int64)
        inputs[0, : len(ids)] = ids
        inputs[1, : len(ids)] = 1
        inputs[2, head : len(ids)] = 1
        out.append(Feature(index, inputs, tuple(spans), tuple(maxc)))
    return out


def features(examples: list[Example], tok: Any) -> list[Feature]:
    return [f for i, e in enumerate(examples) for f in example_features(e, i, tok)]
