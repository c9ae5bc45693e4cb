"""Top-1 accuracy from LoadGen's ``mlperf_log_accuracy.json`` (pure; standard library only).

Each logged response carries the predicted label as one little-endian float32 (the
reference harness's encoding, also what its ``tools/accuracy-imagenet.py`` reads by
default), already shifted by the model's label offset. ``qsl_idx`` indexes ``val_map.txt``;
samples LoadGen logged twice count once, as in the reference tool.
"""

from __future__ import annotations

import json
import struct
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Accuracy:
    good: int
    total: int

    @property
    def top1(self) -> float:
        """Top-1 in percent (0 when nothing was logged)."""
        return 100.0 * self.good / self.total if self.total else 0.0


def decode_label(hex_data: str) -> int:
    """The label in one response's ``data`` field (float32, as the SUT wrote it)."""
    raw = bytes.fromhex(hex_data)
    if len(raw) == 8:
        return int(struct.unpack("<q", raw)[0])
    return int(struct.unpack("<f", raw[:4])[0])


def score(entries: list[dict[str, Any]], labels: list[int]) -> Accuracy:
    """Count correct predictions, each sample once."""
    seen: set[int] = set()
    good = 0
    for entry in entries:
        idx = int(entry["qsl_idx"])
        if idx in seen:
            continue
        seen.add(idx)
        good += decode_label(str(entry["data"])) == labels[idx]
    return Accuracy(good, len(seen))


def score_text(log_text: str, labels: list[int]) -> Accuracy:
    entries = json.loads(log_text) if log_text.strip() else []
    return score(entries, labels)
