"""One MLPerf round's rules, read from the harness's `rules.json` in the shipped index.

The file is the single home of the per-round data (benchmarks, required scenarios per
category, compliance tests, minimums, seeds, required files and system fields), copied
from MLCommons' submission checker; a new round is a new entry there, not code here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.errors import UsageError

#: Where the harness keeps its rules, relative to the shipped index.
RULES_FILE = Path("libraries", "mlperf-harness", "mlperf_harness", "rules.json")


@dataclass(frozen=True)
class Rules:
    """The rules of `round` (`data` is the round's entry; `targets` the accuracy table)."""

    round: str
    data: dict[str, Any]
    targets: dict[str, Any]

    def model(self, benchmark: str) -> str | None:
        """The checker's model name of a benchmark directory (`resnet50` -> `resnet`)."""
        found: str | None = self.data["models"].get(benchmark)
        return found

    def benchmarks(self) -> tuple[str, ...]:
        return tuple(sorted(self.data["models"]))

    def required_scenarios(self, benchmark: str, category: str) -> tuple[str, ...] | None:
        """The scenarios `category` must submit; None: the benchmark is not in it."""
        table = self.data["required-scenarios"].get(category, {})
        found = table.get(self.model(benchmark) or "")
        return None if found is None else tuple(found)

    def optional_scenarios(self, benchmark: str, category: str) -> tuple[str, ...]:
        """The scenarios `category` may submit besides the required ones."""
        table = self.data.get("optional-scenarios", {}).get(category, {})
        return tuple(table.get(self.model(benchmark) or "", ()))

    def compliance_tests(self, benchmark: str) -> tuple[str, ...]:
        model = self.model(benchmark)
        return tuple(t for t, models in sorted(self.data["compliance"].items()) if model in models)

    def accuracy_target(self, benchmark: str) -> tuple[str, float] | None:
        """(the checker's metric name, the closed division's minimum)."""
        entry = self.targets.get(benchmark)
        if entry is None:
            return None
        return entry["metric"], entry["reference"] * entry["fraction"]

    def per_model(self, table: str, benchmark: str) -> Any:
        return self.data[table].get(self.model(benchmark) or "")

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def load(round_name: str, index_root: Path | None = None) -> Rules:
    from cmpkg.shipped import SHIPPED_INDEX

    path = (index_root or SHIPPED_INDEX) / RULES_FILE
    raw = json.loads(path.read_text())
    rounds = raw.get("rounds", {})
    if round_name not in rounds:
        raise UsageError(
            "unknown-round",
            f"{path}: no rules for MLPerf Inference round {round_name!r}",
            hint=f"rounds with rules: {', '.join(sorted(rounds)) or 'none'}",
        )
    return Rules(round_name, rounds[round_name], raw["accuracy-target"])
