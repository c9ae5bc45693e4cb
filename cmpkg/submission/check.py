"""`submission check`: a tree against the round's rules, every failure as `path: rule: message`.

The checks follow what MLCommons' checker enforces (docs/submission.md lists them): the
structure and required files, the system description's required and meaningful fields,
the required scenarios of the system's category, accuracy against the target with the
`hash=` line and a truncated log, VALID performance with the round's seeds, minimum
duration and query counts, and each required compliance test present and passing.
Reading files is all it does; the verdict is data (`Failure`s), rendered by the CLI.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.submission import layout
from cmpkg.submission.loadgen_log import DetailLog, read_detail
from cmpkg.submission.manifest import PLACEHOLDER
from cmpkg.submission.rules import Rules

#: Rules a smoke run breaks by being short, or by LoadGen judging its short settings
#: INVALID (a valid submission never breaks one of these either).
RUN_LENGTH = frozenset(
    {
        "min-duration",
        "min-queries",
        "early-stopping",
        "offline-samples",
        "performance-sample-count",
        "dataset-size",
        "performance-invalid",
        "loadgen-errors",
        "compliance-invalid",
        "compliance-short",
    }
)
SEEDS = ("qsl_rng_seed", "sample_index_rng_seed", "schedule_rng_seed")
#: How a performance verification says one of the runs it compared was INVALID.
INVALID_RUN = "results are invalid"


@dataclass(frozen=True)
class Failure:
    path: str  # relative to the checked directory
    rule: str
    message: str
    warning: bool = False

    def render(self) -> str:
        return f"{self.path}: {self.rule}: {self.message}"

    @property
    def run_length(self) -> bool:
        return self.rule in RUN_LENGTH


class _Report:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.items: list[Failure] = []

    def fail(self, path: Path, rule: str, message: str, *, warning: bool = False) -> None:
        relative = str(path.relative_to(self.root)) if path != self.root else "."
        self.items.append(Failure(relative, rule, message, warning))

    def need(self, path: Path, rule: str = "file-missing") -> bool:
        if path.exists():
            if path.is_file() and path.stat().st_size == 0:
                self.fail(path, "file-empty", f"{path.name} is empty")
            return True
        self.fail(path, rule, f"{path.name} is missing")
        return False


def check(root: Path, rules: Rules) -> list[Failure]:
    report = _Report(root)
    divisions = [d for d in sorted(root.iterdir()) if d.is_dir() and d.name in rules["divisions"]]
    if not divisions:
        report.fail(root, "structure", f"no division directory ({', '.join(rules['divisions'])})")
    layout.check_root(root, rules, report.fail)
    for division in divisions:
        for submitter in sorted(p for p in division.iterdir() if p.is_dir()):
            _submitter(report, rules, submitter)
    return report.items


def _submitter(report: _Report, rules: Rules, top: Path) -> None:
    results = top / "results"
    if not report.need(results, "structure"):
        return
    report.need(top / rules["code-dir"], "code-missing")
    for system_dir in sorted(p for p in results.iterdir() if p.is_dir()):
        system = _system(report, rules, top, system_dir.name)
        for bench in sorted(p for p in system_dir.iterdir() if p.is_dir()):
            _benchmark(report, rules, top, bench, system)


def _system(report: _Report, rules: Rules, top: Path, name: str) -> dict[str, Any]:
    path = top / "systems" / f"{name}.json"
    if not report.need(path, "system-missing"):
        return {}
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except ValueError as error:
        report.fail(path, "system-json", f"not JSON: {error}")
        return {}
    for field in rules["system-required-fields"]:
        if field not in data:
            report.fail(path, "system-field", f"required field {field} is missing")
        elif field in rules["system-meaningful-fields"] and not str(data[field]).strip():
            report.fail(path, "system-field", f"field {field} needs a meaningful value, is empty")
        elif PLACEHOLDER in str(data[field]):
            report.fail(path, "system-placeholder", f"{field} is a placeholder", warning=True)
    _system_values(report, rules, path, data, top)
    return data


def _system_values(
    report: _Report, rules: Rules, path: Path, data: dict[str, Any], top: Path
) -> None:
    status = str(data.get("status", "")).lower()
    if "status" in data and status not in rules["availabilities"]:
        report.fail(
            path, "system-status", f"status {status!r} is not one of {rules['availabilities']}"
        )
    if "system_type" in data and data["system_type"] not in rules["system-types"]:
        report.fail(path, "system-type", f"system_type {data['system_type']!r} is not valid")
    _network(report, rules, path, data, top.parent.name)
    for key, expected in (("submitter", top.name), ("division", top.parent.name)):
        if key in data and str(data[key]).lower() != expected.lower():
            report.fail(
                path, f"system-{key}", f"{key} {data[key]!r}, but the directory is {expected!r}"
            )


def _network(
    report: _Report, rules: Rules, path: Path, data: dict[str, Any], division: str
) -> None:
    """The checker lower-cases the network flag (a JSON bool breaks it) and, when it is
    set at all, wants the network fields too; the closed division is never networked."""
    field = rules["network-field"]
    if field not in data:
        return
    value = data[field]
    if not isinstance(value, str):
        report.fail(path, "system-network", f"{field} must be a string, is {value!r}")
    elif value.lower() == "true" and division == "closed":
        report.fail(path, "system-network", f"{field} is true in the closed division")
    elif value:
        report.fail(path, "system-network", f"{field} {value!r} makes the network fields required")


def _benchmark(
    report: _Report, rules: Rules, top: Path, bench: Path, system: dict[str, Any]
) -> None:
    if rules.model(bench.name) is None:
        report.fail(
            bench, "benchmark-unknown", f"{bench.name} is not a {rules.round} benchmark here"
        )
        return
    report.need(top / rules["code-dir"] / bench.name / "cmpkg.lock", "lock-missing")
    closed = top.parent.name == "closed"
    category = str(system.get("system_type", "edge"))
    required = rules.required_scenarios(bench.name, category)
    if closed and required is None:
        report.fail(
            bench,
            "system-type-benchmark",
            f"{bench.name} is not a {category} benchmark in {rules.round}",
        )
    present = {p.name for p in bench.iterdir() if p.is_dir()}
    for scenario in (required or ()) if closed else ():
        if scenario not in present:
            report.fail(bench, "scenario-missing", f"required scenario {scenario} is missing")
    allowed = set(required or ()) | set(rules.optional_scenarios(bench.name, category))
    for scenario in sorted(present - allowed) if closed and required is not None else ():
        report.fail(
            bench / scenario,
            "scenario-unknown",
            f"{scenario} is neither required nor optional for {bench.name} ({category})",
        )
    for scenario in sorted(present):
        _scenario(report, rules, bench / scenario, bench.name, closed)


def _scenario(report: _Report, rules: Rules, cell: Path, bench: str, closed: bool) -> None:
    for name in rules["scenario-files"]:
        report.need(cell / name)
    _measurements(report, rules, cell / "measurements.json")
    _performance(report, rules, cell / "performance" / "run_1", bench, cell.name)
    _accuracy(report, rules, cell / "accuracy", bench)
    for test in rules.compliance_tests(bench) if closed else ():
        _compliance(report, rules, cell / test, bench, cell.name)


def _measurements(report: _Report, rules: Rules, path: Path) -> None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return  # missing: reported by need(); bad JSON is reported below by the field check
    for field in rules["measurements-required-fields"]:
        if not str(data.get(field, "")).strip():
            report.fail(path, "measurements-field", f"{field} is missing or empty")


def _performance(report: _Report, rules: Rules, run: Path, bench: str, scenario: str) -> None:
    for name in rules["performance-files"]:
        report.need(run / name)
    optional = rules["performance-optional-files"]
    layout.check_file_set(run, rules, rules["performance-files"], optional, report.fail)
    log = read_detail(run / "mlperf_log_detail.txt")
    if log is not None:
        _settings(report, rules, run / "mlperf_log_detail.txt", log, bench, scenario)


def _settings(
    report: _Report, rules: Rules, path: Path, log: DetailLog, bench: str, scenario: str
) -> None:
    if log.get("effective_scenario") != scenario:
        report.fail(
            path,
            "scenario-mismatch",
            f"LoadGen ran {log.get('effective_scenario')} in the {scenario} folder "
            "(cmpkg never infers one scenario's result from another)",
        )
    if log.get("result_validity") != "VALID":
        report.fail(path, "performance-invalid", f"result is {log.get('result_validity')}")
    if log.errors:
        report.fail(path, "loadgen-errors", f"{len(log.errors)} LoadGen error(s): {log.errors[0]}")
    wrong = [s for s in SEEDS if log.get(f"effective_{s}") != rules["seeds"][s]]
    if wrong:  # LoadGen takes them from its built-in mlperf.conf only: one per release
        report.fail(
            path,
            "seeds",
            ", ".join(f"{s} is {log.get(f'effective_{s}')}" for s in wrong)
            + f", the round's is {', '.join(str(rules['seeds'][s]) for s in wrong)}"
            + f" (LoadGen {log.get('loadgen_version')}; the round's seeds are built into "
            + f"{rules['loadgen']['package']} {rules['loadgen']['version']})",
        )
    minimum = rules["min-duration-ms"]
    if (log.get("effective_min_duration_ms") or 0) < minimum:
        report.fail(
            path,
            "min-duration",
            f"min_duration {log.get('effective_min_duration_ms')} ms < {minimum} ms",
        )
    _queries(report, rules, path, log, bench, scenario)
    count = rules.per_model("performance-sample-count", bench) or 0
    if (log.get("effective_performance_sample_count") or 0) < count:
        report.fail(
            path,
            "performance-sample-count",
            f"performance_sample_count {log.get('effective_performance_sample_count')} < {count}",
        )


def _queries(
    report: _Report, rules: Rules, path: Path, log: DetailLog, bench: str, scenario: str
) -> None:
    """The checker's query rules: early stopping met where the scenario uses it, else the
    minimum query count; and Offline's minimum samples per query."""
    if scenario in rules["early-stopping-scenarios"]:
        if not log.get("early_stopping_met"):
            report.fail(path, "early-stopping", f"not met: {log.get('early_stopping_result')}")
    else:
        queries = (rules.per_model("min-queries", bench) or {}).get(scenario, 0)
        if (log.get("effective_min_query_count") or 0) < queries:
            found = log.get("effective_min_query_count")
            report.fail(path, "min-queries", f"min_query_count {found} < {queries}")
    samples = rules.per_model("offline-min-samples", bench) or 0
    per_query = log.get("effective_samples_per_query") or 0
    if scenario == "Offline" and per_query < samples:
        report.fail(path, "offline-samples", f"{per_query} samples per query < {samples}")


def _accuracy(report: _Report, rules: Rules, acc: Path, bench: str) -> None:
    for name in rules["accuracy-files"]:
        report.need(acc / name)
    layout.check_file_set(acc, rules, rules["accuracy-files"], (), report.fail)
    _accuracy_value(report, rules, acc / "accuracy.txt", bench)
    detail = read_detail(acc / "mlperf_log_detail.txt")
    if detail is not None and detail.errors:
        found = f"{len(detail.errors)} LoadGen error(s): {detail.errors[0]}"
        report.fail(acc / "mlperf_log_detail.txt", "loadgen-errors", found)
    log = acc / "mlperf_log_accuracy.json"
    if log.is_file() and log.stat().st_size > rules["max-accuracy-log-bytes"]:
        report.fail(log, "accuracy-log-size", f"{log.stat().st_size} bytes: not truncated")
    size = rules.per_model("dataset-size", bench)
    if detail is None or not size:
        return
    # the checker prefers LoadGen's accuracy sample count where the log has one
    covered = detail.get("effective_accuracy_sample_count", detail.get("qsl_reported_total_count"))
    if covered != size:
        report.fail(acc, "dataset-size", f"the accuracy run covered {covered} of {size} samples")


def _accuracy_value(report: _Report, rules: Rules, path: Path, bench: str) -> None:
    target = rules.accuracy_target(bench)
    if target is None or not path.is_file():
        return
    metric, minimum = target
    lines = path.read_text().splitlines()
    values = [
        m.group(1) for line in lines if (m := re.match(rules["accuracy-pattern"][metric], line))
    ]
    if not values:
        report.fail(path, "accuracy-format", f"no {metric} line in the checker's format")
    elif float(values[0]) < minimum:
        report.fail(path, "accuracy-target", f"{metric} {values[0]} < target {minimum:.4f}")
    if not any(re.match(rules["hash-pattern"], line) for line in lines):
        report.fail(path, "accuracy-hash", "no hash= line")


def _compliance(report: _Report, rules: Rules, test_dir: Path, bench: str, scenario: str) -> None:
    if not test_dir.is_dir():
        report.fail(
            test_dir.parent, "compliance-missing", f"compliance test {test_dir.name} is missing"
        )
        return
    for name in rules["compliance-files"][test_dir.name]:
        found = report.need(test_dir / name, "compliance-file")
        if found and name.startswith("verify_") and not _passes(test_dir / name):
            _compliance_verdict(report, rules, test_dir / name)
    run = test_dir / "performance" / "run_1"
    optional = rules["performance-optional-files"]
    layout.check_file_set(run, rules, rules["performance-files"], optional, report.fail)
    if test_dir.name == "TEST01":
        _test01_accuracy(report, rules, test_dir)
    log = read_detail(run / "mlperf_log_detail.txt")
    if log is not None:
        _settings(report, rules, run / "mlperf_log_detail.txt", log, bench, scenario)


def _compliance_verdict(report: _Report, rules: Rules, path: Path) -> None:
    """A failed verification: of an INVALID run it compared (validity, as a smoke run's
    can be), of a performance comparison between runs shorter than the round's minimum
    (its bound, 10% for most, is for runs of that length: a smoke run's few seconds vary by
    more, so this is run length too, and still reported), or of the comparison itself."""
    text = path.read_text()
    if INVALID_RUN in text:
        said = next(line for line in text.splitlines() if INVALID_RUN in line)
        report.fail(path, "compliance-invalid", f"{path.parent.name}: {said.strip()}")
        return
    message = f"{path.parent.name} {path.name} does not say TEST PASS"
    log = read_detail(path.parent / "performance" / "run_1" / "mlperf_log_detail.txt")
    seconds = (log.get("effective_min_duration_ms") or 0) / 1000 if log else None
    minimum = rules["min-duration-ms"] / 1000
    if path.name == "verify_performance.txt" and seconds is not None and seconds < minimum:
        message += f" (runs of {seconds:g} s compared; the round's bound is for {minimum:g} s)"
        report.fail(path, "compliance-short", message)
    else:
        report.fail(path, "compliance-failed", message)


def _passes(path: Path) -> bool:
    """verify_accuracy.txt passes on a line that is exactly `TEST PASS` (the checker
    compares whole lines there); verify_performance.txt on any line containing it."""
    lines = [line.strip() for line in path.read_text().splitlines()]
    if path.name == "verify_accuracy.txt":
        return "TEST PASS" in lines
    return any("TEST PASS" in line for line in lines)


def _test01_accuracy(report: _Report, rules: Rules, test_dir: Path) -> None:
    """TEST01's accuracy folder: the log (with its hash) when the verification passed,
    and the baseline and compliance accuracies as well when it did not."""
    verify = test_dir / "verify_accuracy.txt"
    verdict = "passed" if verify.is_file() and _passes(verify) else "failed"
    wanted = rules["test01-accuracy-files"][verdict]
    if report.need(test_dir / "accuracy", "compliance-file"):
        layout.check_file_set(test_dir / "accuracy", rules, wanted, (), report.fail)
