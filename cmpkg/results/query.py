"""`--where` filters, parsed into SQL with parameters (pure; values never enter the SQL text).

    scenario=Offline     benchmark!=mlperf-bert     samples_per_s>=100
    backend=pytorch      (a key that is not a column is a variant group)
    run_id~3fa2*         (`~`: a glob, as SQLite's GLOB)

Several filters are ANDed. Numbers compare as numbers, everything else as text.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from cmpkg.errors import UsageError
from cmpkg.results.record import COLUMNS

_FILTER = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)\s*(!=|>=|<=|=|>|<|~)\s*(.*)$")
_SQL_OPS = {"=": "=", "!=": "!=", ">=": ">=", "<=": "<=", ">": ">", "<": "<", "~": "GLOB"}


@dataclass(frozen=True)
class Filter:
    key: str
    op: str
    value: str

    def sql(self) -> tuple[str, object]:
        column = self.key if self.key in COLUMNS else f"json_extract(variant, '$.\"{self.key}\"')"
        value: object = _number(self.value)
        return f"{column} {_SQL_OPS[self.op]} ?", self.value if value is None else value


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse(text: str) -> Filter:
    match = _FILTER.match(text.strip())
    if not match:
        raise UsageError(
            "bad-filter",
            f"--where {text!r}: expected KEY OP VALUE",
            hint="e.g. --where scenario=Offline --where 'samples_per_s>100' (= != < <= > >= ~)",
        )
    return Filter(match.group(1), match.group(2), match.group(3))


def where(texts: Sequence[str]) -> tuple[str, list[object]]:
    """The WHERE clause (without the keyword) and its parameters."""
    parts = [parse(t).sql() for t in texts]
    return " AND ".join(p[0] for p in parts), [p[1] for p in parts]
