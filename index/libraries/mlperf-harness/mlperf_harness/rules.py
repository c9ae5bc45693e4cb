"""The round's rules the harness checks against, read from ``rules.json`` (data, not code)."""

from __future__ import annotations

import json
from pathlib import Path

RULES = Path(__file__).with_name("rules.json")


def accuracy_target(benchmark: str) -> float | None:
    """The closed division's minimum accuracy for ``benchmark`` (None when unknown)."""
    targets = json.loads(RULES.read_text())["accuracy-target"]
    entry = targets.get(benchmark)
    return None if entry is None else round(entry["reference"] * entry["fraction"], 6)
