"""LoadGen's `mlperf_log_detail.txt` (`:::MLLOG {json}` lines) as a key -> value mapping (pure).

The checker reads the same keys through its own log parser: `effective_*` settings,
`result_*` figures, `result_validity`, and errors (`"error": true` lines).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PREFIX = ":::MLLOG "


@dataclass(frozen=True)
class DetailLog:
    values: dict[str, Any]
    errors: tuple[str, ...]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def parse_detail(text: str) -> DetailLog:
    values: dict[str, Any] = {}
    errors: list[str] = []
    for line in text.splitlines():
        if not line.startswith(PREFIX):
            continue
        try:
            entry = json.loads(line[len(PREFIX) :])
        except ValueError:
            continue
        if not isinstance(entry, dict) or "key" not in entry:
            continue
        values[str(entry["key"])] = entry.get("value")
        if entry.get("metadata", {}).get("is_error") or entry["key"] == "error":
            errors.append(str(entry.get("value")))
    return DetailLog(values, tuple(errors))


def read_detail(path: Path) -> DetailLog | None:
    try:
        return parse_detail(path.read_text())
    except OSError:
        return None
