"""LoadGen's ``mlperf_log_accuracy.json`` and the ``accuracy.txt`` beside it (pure).

``accuracy.txt`` holds the benchmark's metric line in the form MLCommons' submission
checker matches (``accuracy=76.456%, good=..., total=...`` for ResNet-50,
``{"exact_match": 81.2, "f1": 88.6}`` for BERT, ``mAP=53.103%`` for YOLO), then
``hash=<sha256 of the accuracy log>``, the line the checker requires.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def read_entries(path: Path) -> list[dict[str, Any]]:
    text = path.read_text() if path.exists() else ""
    entries: list[dict[str, Any]] = json.loads(text) if text.strip() else []
    return entries


def unique_by_sample(entries: list[dict[str, Any]]) -> dict[int, bytes]:
    """Each sample's response bytes, once (LoadGen may log a sample twice)."""
    out: dict[int, bytes] = {}
    for entry in entries:
        out.setdefault(int(entry["qsl_idx"]), bytes.fromhex(str(entry["data"])))
    return out


def accuracy_text(metric_lines: list[str], log: Path) -> str:
    digest = hashlib.sha256(log.read_bytes()).hexdigest() if log.exists() else ""
    return "".join(f"{line}\n" for line in metric_lines) + f"hash={digest}\n"
