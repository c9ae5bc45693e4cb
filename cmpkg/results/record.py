"""One run as one record: the columns of the results database, built from a run's files.

Pure: `build` takes the parsed result.json of the app (None when it wrote none), the run
context cmpkg wrote at install (resolution, facts, store keys, lock), a sweep cell's
`cell.json` (None outside a sweep) and what `cmpkg run` itself saw (times, exit code, host).
Metrics are read tolerantly from the MLPerf harness's `result` section: what an app does
not report stays NULL instead of being guessed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

#: Columns holding JSON text (objects), parsed back by the views.
JSON_COLUMNS = ("variant", "target_facts", "store_keys")
#: Compiled by `re`'s cache when a result is read, not when `cmpkg run` imports this.
_PERCENTILE = r"^(\d+(?:\.\d+)?)(?:th)? percentile latency"


class RunRecord(NamedTuple):
    """One row. A NamedTuple, not a dataclass: `cmpkg run` builds one after the app exits,
    and importing `dataclasses` costs more than building it."""

    run_id: str
    kind: str  # run (a plain `cmpkg run`) or sweep-cell
    status: str  # ok (exit 0 and a result), failed (non-zero exit), no-result
    exit_code: int
    started: str  # ISO 8601, UTC
    ended: str
    host: str
    env: str
    benchmark: str | None
    scenario: str | None
    mode: str | None
    profile: str | None
    variant: str  # JSON object: group -> value
    target: str | None
    target_facts: str  # JSON object: fact -> version
    lock: str | None
    lock_sha256: str | None
    lock_target: str | None
    index_revision: str | None
    store_keys: str  # JSON object: package -> store key
    metric: str | None  # the scenario's primary metric, as LoadGen names it
    value: float | None
    samples_per_s: float | None
    latency_p50_ns: float | None
    latency_p90_ns: float | None
    latency_p99_ns: float | None
    tokens_per_s: float | None
    ttft_ns: float | None
    tpot_ns: float | None
    accuracy: float | None
    accuracy_target: float | None  # the app's pass line, where it reports one
    valid: int | None  # 1 VALID, 0 INVALID, NULL: no validity (accuracy runs, failures)
    result_dir: str | None
    sweep: str | None
    cell: str | None
    attempt: int | None
    executor: str | None

    def row(self) -> dict[str, Any]:
        return self._asdict()


COLUMNS = RunRecord._fields
#: (heading, column) of the summary both views show: `results list` and the report's table.
SUMMARY = (
    ("run", "run_id"),
    ("benchmark", "benchmark"),
    ("scenario", "scenario"),
    ("target", "target"),
    ("variant", "variant"),
    ("status", "status"),
    ("valid", "valid"),
    ("samples/s", "samples_per_s"),
    ("p90 ms", "latency_p90_ns"),
    ("accuracy", "accuracy"),
)


class RunFacts(NamedTuple):
    """What `cmpkg run` saw itself."""

    run_id: str
    env: str
    started: float
    ended: float
    exit_code: int
    host: str
    result_dir: str | None


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def build(
    facts: RunFacts,
    result: Mapping[str, Any] | None,
    context: Mapping[str, Any] | None,
    cell: Mapping[str, Any] | None,
) -> RunRecord:
    import json

    context = context or {}
    cell = cell or {}
    res = (result or {}).get("result") or {}
    resolution = context.get("resolution") or {}
    lock = context.get("lock") or {}
    metrics = _metrics(res, (result or {}).get("performance") or {})
    return RunRecord(
        run_id=facts.run_id,
        kind="sweep-cell" if cell else "run",
        status=_status(facts.exit_code, result),
        exit_code=facts.exit_code,
        started=iso(facts.started),
        ended=iso(facts.ended),
        host=facts.host,
        env=facts.env,
        benchmark=cell.get("benchmark") or _first(resolution.get("roots")),
        scenario=cell.get("scenario") or (result or {}).get("scenario") or res.get("scenario"),
        mode=(result or {}).get("mode") or res.get("mode"),
        profile=cell.get("profile") or (result or {}).get("profile"),
        variant=json.dumps(cell.get("variant") or _root_variant(resolution), sort_keys=True),
        target=cell.get("target") or resolution.get("target"),
        target_facts=json.dumps(_facts(resolution), sort_keys=True),
        lock=cell.get("lock") or lock.get("path"),
        lock_sha256=cell.get("lock-sha256") or lock.get("sha256"),
        lock_target=cell.get("lock-target") or lock.get("target"),
        index_revision=cell.get("index-revision")
        or lock.get("index-revision")
        or context.get("index-revision"),
        store_keys=json.dumps(cell.get("store-keys") or context.get("store-keys") or {}),
        metric=res.get("metric"),
        value=_number(res.get("value")),
        accuracy=_accuracy(res),
        accuracy_target=_number(res.get("accuracy_target")),
        valid=None if res.get("valid") is None else int(bool(res["valid"])),
        result_dir=facts.result_dir,
        sweep=cell.get("sweep"),
        cell=cell.get("id"),
        attempt=cell.get("attempt"),
        executor=cell.get("executor"),
        **metrics,
    )


def _status(exit_code: int, result: Mapping[str, Any] | None) -> str:
    if exit_code != 0:
        return "failed"
    return "ok" if result else "no-result"


def _first(items: Any) -> str | None:
    return items[0] if isinstance(items, list) and items else None


def _root_variant(resolution: Mapping[str, Any]) -> dict[str, str]:
    root = _first(resolution.get("roots"))
    package = (resolution.get("packages") or {}).get(root) or {}
    return dict(package.get("variant") or {})


def _facts(resolution: Mapping[str, Any]) -> dict[str, str]:
    found = resolution.get("facts") or {}
    return {k: v.get("version", "") if isinstance(v, dict) else str(v) for k, v in found.items()}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _metrics(res: Mapping[str, Any], performance: Mapping[str, Any]) -> dict[str, float | None]:
    """Throughput and latency columns from LoadGen's own figures in the harness's `result`
    section: Offline's and Server's metric, else the latency scenarios' query rate (one
    sample per query in SingleStream). Only MultiStream, whose queries hold several
    samples, takes the rate the `performance` section derives (result.json schema 2)."""
    metric = str(res.get("metric") or "").lower()
    value = _number(res.get("value"))
    extras = res.get("extras") or {}
    samples = value if "samples per second" in metric else None
    if samples is None and performance.get("scenario") == "MultiStream":
        samples = _number(performance.get("samples_per_second"))
    if samples is None:
        samples = _number(extras.get("QPS w/o loadgen overhead"))
    latencies = _percentiles(res.get("latency_ns") or {})
    return {
        "samples_per_s": samples,
        "latency_p50_ns": latencies.get(50.0),
        "latency_p90_ns": latencies.get(90.0),
        "latency_p99_ns": latencies.get(99.0),
        "tokens_per_s": value
        if "tokens per second" in metric
        else _number(res.get("tokens_per_s")),
        "ttft_ns": _number(res.get("ttft_ns")),
        "tpot_ns": _number(res.get("tpot_ns")),
    }


def _percentiles(latency: Mapping[str, Any]) -> dict[float, float]:
    found = {}
    for key, value in latency.items():
        match = re.match(_PERCENTILE, key, re.IGNORECASE)
        number = _number(value)
        if match and number is not None:
            found[float(match.group(1))] = number
    return found


def _accuracy(res: Mapping[str, Any]) -> float | None:
    for key in ("accuracy", "top1"):
        number = _number(res.get(key))
        if number is not None:
            return number
    return None
