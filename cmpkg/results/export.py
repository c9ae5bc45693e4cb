"""`results export --csv | --json`: every selected row, every column (pure text rendering).

CSV keeps the JSON columns (variant, target_facts, store_keys) as JSON text in one cell; the
JSON export parses them back into objects, so a script reads one typed document.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from cmpkg.results.record import COLUMNS, JSON_COLUMNS


def typed(row: Mapping[str, Any]) -> dict[str, Any]:
    """A database row with its JSON columns parsed."""
    out = {c: row.get(c) for c in COLUMNS}
    for column in JSON_COLUMNS:
        out[column] = json.loads(out[column] or "{}")
    return out


def to_json(rows: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps([typed(r) for r in rows], indent=2, sort_keys=True) + "\n"


def to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: row.get(c) for c in COLUMNS})
    return out.getvalue()
