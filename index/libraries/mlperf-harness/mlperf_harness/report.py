"""``result.json`` and the closing human summary (pure; standard library only).

The schema (``RESULT_SCHEMA``) is documented in docs/mlperf.md and read by cmpkg's
sweeps and results database: add keys freely, never rename or drop one without bumping
the schema number.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlperf_harness.summary import Summary

RESULT_SCHEMA = 2
# summary.latencies_ns() keys -> result.json's short names.
PERCENTILES = {
    "Min latency": "min",
    "Mean latency": "mean",
    "50.00 percentile latency": "p50",
    "90.00 percentile latency": "p90",
    "95.00 percentile latency": "p95",
    "97.00 percentile latency": "p97",
    "99.00 percentile latency": "p99",
    "99.90 percentile latency": "p99.9",
    "Max latency": "max",
}
THROUGHPUT_KEYS = ("Samples per second", "Completed samples per second")


@dataclass(frozen=True, slots=True)
class Score:
    """An app's accuracy verdict on one accuracy log."""

    metric: str  # "top1", "f1"
    value: float  # percent
    details: dict[str, Any]
    lines: list[str]  # accuracy.txt's metric lines (the submission checker's format)
    text: str  # one human line


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_run_context(path: str | None) -> Any:
    """The JSON cmpkg wrote for this run (resolution, lock, target facts), verbatim."""
    if not path:
        return None
    return json.loads(Path(path).read_text())


def iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def per_query(summary: Summary, samples_per_query: int) -> int:
    """Samples in one query of the summary's scenario: MultiStream's from the summary's own
    ``samples_per_query`` line (else the caller's), one for every other scenario. The
    scenario decides, never the caller's value alone: a SingleStream rate multiplied by
    TestSettings' MultiStream count (8) was issue 19's 8x samples_per_second."""
    if summary.scenario != "MultiStream":
        return 1
    stated = summary.fields.get("samples_per_query", "")
    return int(stated) if stated.isdigit() else samples_per_query


def performance_section(summary: Summary, samples_per_query: int, where: Path) -> dict[str, Any]:
    """``samples_per_query``: MultiStream's, used only where the summary does not say."""
    metric = summary.metric()
    latency = summary.latencies_ns()
    extras = summary.extras()
    per = per_query(summary, samples_per_query)
    rate = summary.first_of(THROUGHPUT_KEYS)
    if rate is None and "QPS w/ loadgen overhead" in extras:
        rate = str(extras["QPS w/ loadgen overhead"] * per)
    if rate is None and latency.get("Mean latency"):  # MultiStream prints no QPS line
        rate = str(per * 1e9 / latency["Mean latency"])
    return {
        "scenario": summary.scenario,
        "mode": summary.mode,
        "valid": summary.valid,
        "metric": metric[0] if metric else None,
        "value": metric[1] if metric else None,
        "samples_per_second": float(rate) if rate is not None else None,
        "latency_ns": {PERCENTILES[k]: v for k, v in latency.items() if k in PERCENTILES},
        "extras": extras,
        "dir": str(where),
    } | ({"tokens": tokens} if (tokens := summary.tokens()) else {})


def accuracy_section(score: Score, target: float | None, where: Path) -> dict[str, Any]:
    return {
        "metric": score.metric,
        "value": round(score.value, 4),
        "target": target,
        "passed": None if target is None else score.value >= target,
        **score.details,
        "text": score.text,
        "dir": str(where),
    }


def result_section(
    performance: dict[str, Any] | None, accuracy: dict[str, Any] | None
) -> dict[str, Any]:
    """The schema-1 ``result`` section (one mode's figures, LoadGen's latency names) that
    cmpkg's results database reads; schema 2 keeps it beside the richer sections."""
    perf = performance or {}
    names = {short: long for long, short in PERCENTILES.items()}
    out: dict[str, Any] = {
        "scenario": perf.get("scenario"),
        "mode": perf.get("mode") or ("AccuracyOnly" if accuracy else None),
        "valid": perf.get("valid"),
        "metric": perf.get("metric"),
        "value": perf.get("value"),
        "latency_ns": {names[k]: v for k, v in (perf.get("latency_ns") or {}).items()},
        "extras": perf.get("extras") or {},
    }
    if accuracy is not None:
        out["accuracy"] = accuracy["value"]
        out["accuracy_target"] = accuracy["target"]
        out[accuracy["metric"]] = accuracy["value"]
    return out


def build_result(
    head: dict[str, Any],
    performance: dict[str, Any] | None,
    accuracy: dict[str, Any] | None,
    rest: dict[str, Any],
) -> dict[str, Any]:
    """The whole record; ``head`` holds benchmark, scenario, profile, start/end."""
    metrics: dict[str, Any] = {}
    if performance is not None:
        metrics["samples_per_second"] = performance["samples_per_second"]
        metrics["latency_ns"] = performance["latency_ns"]
        metrics[performance["metric"] or "metric"] = performance["value"]
    if accuracy is not None:
        metrics[accuracy["metric"]] = accuracy["value"]
    return {
        "schema": RESULT_SCHEMA,
        **head,
        "valid": performance["valid"] if performance is not None else None,
        "metrics": metrics,
        "performance": performance,
        "accuracy": accuracy,
        "result": result_section(performance, accuracy),
        **rest,
    }


def _metric_line(name: str, value: float) -> str:
    if name.endswith(" (ns)"):
        return f"{name.removesuffix(' (ns)')}: {value / 1e6:.3f} ms"
    return f"{name}: {value:g}"


def _tokens_line(tokens: dict[str, Any]) -> str:
    """Token throughput and the 99th percentiles of TTFT and TPOT, in ms."""
    parts = [f"{tokens['tokens_per_second']:g} tokens/s"] if "tokens_per_second" in tokens else []
    for key, name in (("ttft_ns", "TTFT"), ("tpot_ns", "TPOT")):
        if "p99" in tokens.get(key, {}):
            parts.append(f"{name} p99 {tokens[key]['p99'] / 1e6:.3f} ms")
    return "; ".join(parts)


def human_summary(result: dict[str, Any], loadgen_block: str | None) -> str:
    """What stdout ends with (before the results directory's path)."""
    label = result.get("label")
    title = f"MLPerf {result['benchmark']} {result['scenario']} ({result['profile']} profile)"
    lines = [title, f"*** {label} ***"] if label else [title]
    perf = result["performance"]
    if perf is not None:
        if loadgen_block:
            lines += ["LoadGen summary:", *(f"  {line}" for line in loadgen_block.splitlines())]
        verdict = {True: "VALID", False: "INVALID", None: "no verdict"}[perf["valid"]]
        note = " (for these smoke settings only)" if label else ""
        text = _metric_line(perf["metric"], perf["value"]) if perf["metric"] else "no metric"
        lines.append(f"performance: {verdict}{note}; {text}")
        if perf.get("tokens"):
            lines.append(f"tokens: {_tokens_line(perf['tokens'])}")
    acc = result["accuracy"]
    if acc is not None:
        verdict = {True: "PASS", False: "FAIL", None: ""}[acc["passed"]]
        target = f", target {acc['target']:.4f} {verdict}" if acc["target"] is not None else ""
        lines.append(f"accuracy: {acc['text']}{target}")
    check = result.get("verification")
    if check is not None:
        lines.append(f"{check['test']}: {'PASS' if check['passed'] else 'FAIL'} ({check['file']})")
    return "\n".join(lines)
