"""How long a LoadGen run will take, from its settings and a measured rate (pure).

Printed before a ``full`` run starts so that nobody mistakes a 10-minute Offline run on a
laptop for a hang. The figures are LoadGen's lower bounds (a run also stops at
``max_duration``): Offline issues one query of ``max(min_query_count, expected_qps x
min_duration)`` samples; Server schedules ``max(min_query_count, target_qps x
min_duration)`` queries at ``target_qps``; SingleStream and MultiStream issue queries
back to back until both ``min_query_count`` and ``min_duration`` are reached.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rules:
    """The TestSettings values an estimate needs (read back after the conf files)."""

    scenario: str
    min_duration_s: float
    max_duration_s: float  # 0: no limit
    min_query_count: int
    expected_qps: float  # offline_expected_qps or server_target_qps
    samples_per_query: int  # MultiStream


@dataclass(frozen=True, slots=True)
class Estimate:
    samples: int
    seconds: float

    def render(self) -> str:
        return f"about {self.samples:,} samples in {duration_text(self.seconds)}"


def performance(rules: Rules, rate: float) -> Estimate:
    """``rate``: samples per second this machine sustains (from a calibration)."""
    rate = max(rate, 1e-9)
    if rules.scenario == "Offline":
        samples = max(rules.min_query_count, math.ceil(rules.expected_qps * rules.min_duration_s))
        seconds = max(rules.min_duration_s, samples / rate)
    elif rules.scenario == "Server":
        qps = max(rules.expected_qps, 1e-9)
        samples = max(rules.min_query_count, math.ceil(qps * rules.min_duration_s))
        seconds = max(samples / qps, samples / rate)
    else:
        per_query = rules.samples_per_query if rules.scenario == "MultiStream" else 1
        latency = per_query / rate
        queries = max(rules.min_query_count, math.ceil(rules.min_duration_s / latency))
        samples = queries * per_query
        seconds = queries * latency
    return _capped(Estimate(samples, seconds), rules, rate)


def accuracy(count: int, rate: float) -> Estimate:
    return Estimate(count, count / max(rate, 1e-9))


def _capped(estimate: Estimate, rules: Rules, rate: float) -> Estimate:
    if rules.max_duration_s and estimate.seconds > rules.max_duration_s:
        return Estimate(int(rules.max_duration_s * rate), rules.max_duration_s)
    return estimate


def duration_text(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"
