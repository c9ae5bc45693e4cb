"""The results workflows: list, compare, export and report (docs/results.md)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.errors import UsageError
from cmpkg.results import compare as compare_mod
from cmpkg.results import query
from cmpkg.results.database import Results, default_dir


def results(start: Path) -> Results:
    from cmpkg.config import home

    return Results(default_dir(start, home()))


def select(start: Path, where: Sequence[str] = ()) -> list[dict[str, Any]]:
    clause, params = query.where(where)
    return results(start).select(clause, params)


@dataclass(frozen=True)
class Comparison:
    a: str
    b: str
    pairs: tuple[compare_mod.Pair, ...]


def compare(start: Path, a: str, b: str) -> Comparison:
    rows = select(start)
    a_rows, a_named = _side(rows, a)
    b_rows, b_named = _side(rows, b)
    named = sorted(set(a_named) | set(b_named))
    if not a_named and not b_named:  # two runs: compare them whatever they are
        return Comparison(a, b, (compare_mod.Pair(("run",), a_rows[0], b_rows[0]),))
    found = compare_mod.pairs(a_rows, b_rows, named)
    if not found:
        raise UsageError(
            "nothing-to-compare",
            f"no successful runs of {a!r} and {b!r} share benchmark, scenario and target",
            hint="see `cmpkg results list`",
        )
    return Comparison(a, b, tuple(found))


def _side(rows: Sequence[dict[str, Any]], text: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows a side names and the keys it filters on (none for a run id)."""
    if "=" not in text and "<" not in text and ">" not in text and "~" not in text:
        found = [r for r in rows if str(r["run_id"]).startswith(text)]
        if len(found) != 1:
            what = "no run" if not found else f"{len(found)} runs"
            raise UsageError(
                "bad-run-id", f"{what} with id {text!r}", hint="ids are in `cmpkg results list`"
            )
        return found, []
    filters = [query.parse(part) for part in text.split(",")]
    clause, params = query.where([f"{f.key}{f.op}{f.value}" for f in filters])
    ids = {r["run_id"] for r in _filtered(rows, clause, params)}
    return [r for r in rows if r["run_id"] in ids], [f.key for f in filters]


def _filtered(rows: Sequence[dict[str, Any]], clause: str, params: list[object]) -> list[Any]:
    """Apply a WHERE clause to rows already read, with SQLite itself (one semantics)."""
    import sqlite3

    from cmpkg.results.record import COLUMNS

    with sqlite3.connect(":memory:") as db:
        db.execute(f"CREATE TABLE runs ({', '.join(COLUMNS)})")
        marks = ", ".join("?" for _ in COLUMNS)
        db.executemany(
            f"INSERT INTO runs VALUES ({marks})", [[r[c] for c in COLUMNS] for r in rows]
        )
        db.row_factory = sqlite3.Row
        return [dict(r) for r in db.execute(f"SELECT * FROM runs WHERE {clause}", params)]


def report(start: Path, out: Path | None, where: Sequence[str] = ()) -> Path:
    from cmpkg.results import report as report_mod

    rows = select(start, where)
    if out is None:
        out = results(start).dir / "report"
    return report_mod.write(rows, out)
