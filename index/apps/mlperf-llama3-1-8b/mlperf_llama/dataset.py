"""CNN-DailyMail as the round prepares it for llama3.1-8b: a JSON list of records whose
``tok_input`` is the prompt's token ids (the instruction template applied, the Llama 3
tokenizer's) and ``output`` the reference summary; the official ``cnn_eval.json`` (13,368
records) and ``sample_cnn_eval_5000.json`` (edge) and the synthetic set share this shape.

Prompts differ in length, so a loaded sample is its index (an int64 [1] array) and the
backend keeps the prompt table; LoadGen's QSL still decides which samples are loaded.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np


class CnnDailyMail:
    def __init__(self, path: Path, count: int | None) -> None:
        records: list[dict[str, Any]] = json.loads(path.read_text())
        self.available = len(records)
        self.records = records[: count or None]
        self.prompts = [list(map(int, r["tok_input"])) for r in self.records]
        self.references = [str(r["output"]) for r in self.records]
        meta = path.with_name("synthetic.json")
        self.meta: dict[str, Any] = json.loads(meta.read_text()) if meta.is_file() else {}

    @property
    def count(self) -> int:
        return len(self.records)

    def read(self, index: int) -> np.ndarray:
        return np.array([index], dtype=np.int64)
