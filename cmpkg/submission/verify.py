"""The compliance verifications the round defines (compliance/TEST01, TEST04), as values.

Each returns the text of the file the official scripts write (`verify_accuracy.txt`,
`verify_performance.txt`), ending with `TEST PASS` or `TEST FAIL: ...`, the line the
submission checker looks for. Performance is LoadGen's result field of the scenario
(rules `result-field`): TEST01 must stay within the threshold either side of the
submitted run, TEST04 (the same sample again and again) must not be faster by more than it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cmpkg.submission.loadgen_log import read_detail
from cmpkg.submission.rules import Rules

PASS = "TEST PASS"


def accuracy_entries(path: Path) -> dict[int, str]:
    """qsl_idx -> the logged response (first occurrence), from mlperf_log_accuracy.json."""
    text = path.read_text() if path.exists() else ""
    entries: list[dict[str, Any]] = json.loads(text) if text.strip() else []
    out: dict[int, str] = {}
    for entry in entries:
        out.setdefault(int(entry["qsl_idx"]), str(entry["data"]))
    return out


def test01_accuracy(reference: Path, compliance: Path) -> str:
    """Every response logged in performance mode equals the accuracy run's response."""
    ref, test = accuracy_entries(reference), accuracy_entries(compliance)
    lines = [
        f"Reading accuracy mode results: {len(ref)} samples",
        f"Reading performance mode results: {len(test)} samples",
    ]
    missing = sorted(i for i in test if i not in ref)
    differ = sorted(i for i in test if i in ref and ref[i] != test[i])
    matched = len(test) - len(missing) - len(differ)
    lines.append(f"{matched} samples match, {len(differ)} differ, {len(missing)} missing")
    if not test:
        lines.append("TEST FAIL: the compliance run logged no responses")
    elif missing or differ:
        lines.append("TEST FAIL: responses differ from the accuracy run")
    else:
        lines.append(PASS)
    return "\n".join(lines) + "\n"


def performance(test: str, reference: Path, compliance: Path, rules: Rules) -> str:
    """verify_performance.txt of TEST01 (within the threshold) or TEST04 (not faster)."""
    ref, got = read_detail(reference), read_detail(compliance)
    if ref is None or got is None:
        return f"TEST FAIL: missing {reference if ref is None else compliance}\n"
    scenario = ref.get("effective_scenario")
    field = rules["result-field"].get(scenario)
    lines = ["Verifying performance."]
    for name, log in (("Reference", ref), ("Test", got)):
        if log.get("result_validity") != "VALID":
            return "\n".join([*lines, f"TEST FAIL: {name} results are invalid"]) + "\n"
    if got.get("effective_scenario") != scenario:
        return "\n".join([*lines, "TEST FAIL: Test and reference scenarios do not match!"]) + "\n"
    ref_score, test_score = float(ref.get(field) or 0), float(got.get(field) or 0)
    if scenario in ("SingleStream", "MultiStream"):  # latencies: compare rates
        ref_score, test_score = _rate(ref_score), _rate(test_score)
    lines += [f"reference score = {ref_score}", f"test score = {test_score}"]
    threshold = _threshold(rules, scenario, float(ref.get(field) or 0))
    if test == "TEST04":
        ok = test_score < ref_score * (1 + threshold)
    else:
        ok = ref_score * (1 - threshold) <= test_score <= ref_score * (1 + threshold)
    lines.append(PASS if ok else "TEST FAIL: Test score invalid")
    return "\n".join(lines) + "\n"


def _rate(latency_ns: float) -> float:
    return 1e9 / latency_ns if latency_ns else 0.0


def _threshold(rules: Rules, scenario: str, latency_ns: float) -> float:
    table = rules["compliance-threshold"]
    below = table["relaxed-below"].get(scenario)
    relaxed = below is not None and latency_ns <= below
    return float(table["relaxed"] if relaxed else table["default"])


def passed(text: str) -> bool:
    return PASS in text
