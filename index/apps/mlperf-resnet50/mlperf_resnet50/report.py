"""``result.json`` and the closing human summary (pure, standard library only)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from mlperf_resnet50.accuracy import Accuracy
from mlperf_resnet50.summary import Summary

RESULT_SCHEMA = 1


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


def result_section(summary: Summary, accuracy: Accuracy | None) -> dict[str, Any]:
    metric = summary.metric()
    out: dict[str, Any] = {
        "scenario": summary.scenario,
        "mode": summary.mode,
        "valid": summary.valid,
        "metric": metric[0] if metric else None,
        "value": metric[1] if metric else None,
        "latency_ns": summary.latencies_ns(),
        "extras": summary.extras(),
    }
    if accuracy is not None:
        out["top1"] = round(accuracy.top1, 4)
        out["good"] = accuracy.good
        out["total"] = accuracy.total
    return out


def build_result(
    run: dict[str, Any],
    summary: Summary,
    accuracy: Accuracy | None,
    context: Any,
    versions: dict[str, Any],
) -> dict[str, Any]:
    """The whole record; ``run`` holds the inputs (backend, device, model, dataset...)."""
    return {
        "schema": RESULT_SCHEMA,
        **run,
        "result": result_section(summary, accuracy),
        "run_context": context,
        "versions": versions,
    }


def _metric_line(name: str, value: float) -> str:
    if name.endswith(" (ns)"):
        return f"{name.removesuffix(' (ns)')}: {value / 1e6:.3f} ms"
    return f"{name}: {value:g}"


def human_summary(result: dict[str, Any]) -> str:
    res = result["result"]
    valid = {True: "VALID", False: "INVALID", None: "no validity (accuracy run)"}[res["valid"]]
    lines = [
        f"{result['scenario']} {result['mode']} on {result['backend']}/{result['device']}"
        f" ({result['precision']}): {valid}"
    ]
    if res["metric"] is not None:
        lines.append(f"  {_metric_line(res['metric'], res['value'])}")
    if "top1" in res:
        lines.append(f"  top-1: {res['top1']:.3f}% ({res['good']}/{res['total']})")
    if result["scenario"] != "Offline":  # one query: its latency is the whole run
        for key in ("50.00 percentile latency", "90.00 percentile latency"):
            if key in res["latency_ns"]:
                lines.append(f"  {key}: {res['latency_ns'][key] / 1e6:.3f} ms")
    return "\n".join(lines)
