"""`results compare A B`: B's metrics over A's, run against run or group against group (pure).

A side is a run id (or a unique prefix of one) or filters such as `backend=pytorch`
(comma-separated, as `--where`). Two filter sides are matched up by what they do not name:
`compare backend=onnxruntime backend=pytorch` pairs each benchmark/scenario/target/profile
(and other variant values) of the one with the same of the other, taking the latest run of
each. A ratio above 1 means B is higher: better for throughput and accuracy, worse for
latency.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

METRICS = (
    "samples_per_s",
    "tokens_per_s",
    "latency_p50_ns",
    "latency_p90_ns",
    "latency_p99_ns",
    "ttft_ns",
    "tpot_ns",
    "accuracy",
)
_GROUP = ("benchmark", "scenario", "target", "profile", "mode")


@dataclass(frozen=True)
class Pair:
    key: tuple[str, ...]  # what the two runs share (benchmark, scenario, ...)
    a: Mapping[str, Any]
    b: Mapping[str, Any]

    def ratios(self) -> dict[str, float]:
        found = {}
        for metric in METRICS:
            x, y = self.a.get(metric), self.b.get(metric)
            if isinstance(x, int | float) and isinstance(y, int | float) and x:
                found[metric] = y / x
        return found


def group_key(row: Mapping[str, Any], named: Sequence[str]) -> tuple[str, ...]:
    """The run's identity less the keys a side names (those differ on purpose)."""
    variant = json.loads(row.get("variant") or "{}")
    parts = [f"{k}={row.get(k)}" for k in _GROUP if k not in named]
    parts += [f"{g}={v}" for g, v in sorted(variant.items()) if g not in named]
    return tuple(parts)


def latest(rows: Sequence[Mapping[str, Any]], named: Sequence[str]) -> dict[tuple[str, ...], Any]:
    """The latest successful run per group (rows come oldest first)."""
    found: dict[tuple[str, ...], Any] = {}
    for row in rows:
        if row.get("status") == "ok":
            found[group_key(row, named)] = row
    return found


def pairs(
    a_rows: Sequence[Mapping[str, Any]],
    b_rows: Sequence[Mapping[str, Any]],
    named: Sequence[str],
) -> list[Pair]:
    a, b = latest(a_rows, named), latest(b_rows, named)
    return [Pair(key, a[key], b[key]) for key in sorted(a.keys() & b.keys())]
