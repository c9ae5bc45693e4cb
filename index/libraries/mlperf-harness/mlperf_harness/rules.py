"""The round's rules the harness checks against, read from ``rules.json`` (data, not code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RULES = Path(__file__).with_name("rules.json")


def _rules() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(RULES.read_text())
    return data


def accuracy_target(benchmark: str) -> float | None:
    """The closed division's minimum accuracy for ``benchmark`` (None when unknown)."""
    entry = _rules()["accuracy-target"].get(benchmark)
    return None if entry is None else round(entry["reference"] * entry["fraction"], 6)


def accuracy_targets(benchmark: str) -> dict[str, float]:
    """Every metric's minimum for ``benchmark``: the primary one and its ``also`` metrics
    (ROUGE-2/L/Lsum for the LLMs), each the reference value times the level."""
    entry = _rules()["accuracy-target"].get(benchmark)
    if entry is None:
        return {}
    values = {entry["metric"]: entry["reference"], **entry.get("also", {})}
    return {name: round(value * entry["fraction"], 6) for name, value in values.items()}


def scenarios(benchmark: str) -> dict[str, Any]:
    """The round's category, required and optional scenarios and dataset size (or {})."""
    found: dict[str, Any] = _rules().get("scenarios", {}).get(benchmark, {})
    return found


def reference_gen_len(benchmark: str) -> int | None:
    """The reference's generation length over the round's dataset (LLMs), if any: as its
    evaluation.py counts it, the total characters of the decoded, sentence-split outputs."""
    entry = _rules()["accuracy-target"].get(benchmark) or {}
    value = entry.get("gen_len")
    return int(value) if value is not None else None
