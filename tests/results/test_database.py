"""Run records: built from a real result.json, stored one file per run, merged into SQLite by
concurrent processes without loss, filtered, compared and exported."""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
from pathlib import Path
from typing import Any

import pytest

from cmpkg.errors import UsageError
from cmpkg.results import compare, export, query
from cmpkg.results.database import Results
from cmpkg.results.record import COLUMNS, RunFacts, RunRecord, build

ROOT = Path(__file__).parents[2]
# A real run of the MLPerf harness on an H200 (docs/results/), with its run context.
H200 = ROOT / "docs" / "results" / "h200-2026-11-27" / "cmpkg-run_result.json"


def _facts(run_id: str = "r1", exit_code: int = 0) -> RunFacts:
    return RunFacts(run_id, "env", 1_700_000_000.0, 1_700_000_010.0, exit_code, "node1", "/r")


def make(run_id: str, variant: dict[str, str], rate: float, scenario: str = "Offline") -> RunRecord:
    result = {
        "scenario": scenario,
        "mode": "performance",
        "result": {"valid": True, "metric": "Samples per second", "value": rate},
    }
    context = {
        "resolution": {"target": "cpu", "roots": ["app"], "packages": {"app": {"variant": variant}}}
    }
    return build(_facts(run_id), result, context, None)


def test_a_real_harness_result_fills_the_metric_columns() -> None:
    result = json.loads(H200.read_text())
    record = build(_facts(), result, result["run_context"], None)
    assert (record.benchmark, record.scenario, record.target) == (
        "mlperf-resnet50",
        "Offline",
        "cuda",
    )
    assert record.samples_per_s == 11837.3 and record.value == 11837.3
    assert record.latency_p50_ns == 3659905862.0 and record.latency_p99_ns == 6063627288.0
    assert record.valid == 1 and record.status == "ok" and record.kind == "run"
    assert json.loads(record.variant)["backend"] == "pytorch"
    assert json.loads(record.target_facts)["__cuda"]
    assert json.loads(record.store_keys)
    assert record.tokens_per_s is None and record.accuracy is None  # not reported: not guessed
    assert record.started == "2023-11-14T22:13:20Z"


def test_a_schema_2_smoke_result_takes_loadgen_figures() -> None:
    """A real smoke run of the shared harness on this 2-core VM (a sweep cell, Slurm)."""
    result = json.loads(
        (Path(__file__).parent / "data" / "smoke-singlestream-result.json").read_text()
    )
    record = build(_facts(), result, result["run_context"], None)
    assert (record.scenario, record.profile, record.mode) == (
        "SingleStream",
        "smoke",
        "performance+accuracy",
    )
    assert record.samples_per_s == 2.2  # LoadGen's QPS w/o overhead: one sample per query
    assert record.latency_p90_ns == 589946528.0 and record.valid == 1
    assert (record.accuracy, record.accuracy_target) == (100.0, 75.6954)


def test_a_run_without_a_result_is_still_a_row() -> None:
    failed = build(_facts(exit_code=3), None, None, None)
    assert (failed.status, failed.exit_code, failed.samples_per_s) == ("failed", 3, None)
    assert build(_facts(), None, None, None).status == "no-result"


def _write_and_merge(directory: str, n: int) -> None:
    results = Results(Path(directory))
    results.write_record(make(f"run{n:02d}", {"backend": "x"}, float(n + 1)))
    results.merge()


def test_concurrent_writers_lose_nothing_and_the_database_rebuilds(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_and_merge, args=(str(tmp_path), n)) for n in range(8)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    assert [p.exitcode for p in procs] == [0] * 8
    results = Results(tmp_path)
    assert [r["run_id"] for r in results.select()] == [f"run{n:02d}" for n in range(8)]
    results.path.unlink()  # the database is a cache of records/
    assert len(Results(tmp_path).select()) == 8


def _store(tmp_path: Path, *records: RunRecord) -> Results:
    results = Results(tmp_path)
    for record in records:
        results.write_record(record)
    return results


def test_where_filters_columns_variant_groups_and_numbers(tmp_path: Path) -> None:
    results = _store(
        tmp_path,
        make("a1", {"backend": "onnxruntime"}, 100.0),
        make("a2", {"backend": "pytorch"}, 250.0),
        make("a3", {"backend": "pytorch"}, 50.0, "SingleStream"),
    )

    def ids(*texts: str) -> list[str]:
        clause, params = query.where(texts)
        return [r["run_id"] for r in results.select(clause, params)]

    assert ids("backend=pytorch") == ["a2", "a3"]
    assert ids("backend=pytorch", "samples_per_s>=100") == ["a2"]
    assert ids("scenario!=Offline") == ["a3"]
    assert ids("run_id~a[12]") == ["a1", "a2"]
    assert ids("backend=x'; DROP TABLE runs; --") == [] and len(ids()) == 3
    with pytest.raises(UsageError):
        query.parse("no operator")


def test_compare_pairs_groups_by_what_the_sides_do_not_name(tmp_path: Path) -> None:
    rows = _store(
        tmp_path,
        make("o1", {"backend": "onnxruntime"}, 100.0),
        make("p1", {"backend": "pytorch"}, 150.0),
        make("p2", {"backend": "pytorch"}, 250.0),  # the latest run of the group counts
        make("o3", {"backend": "onnxruntime"}, 10.0, "SingleStream"),
    ).select()
    a = [r for r in rows if "onnxruntime" in r["variant"]]
    b = [r for r in rows if "pytorch" in r["variant"]]
    (pair,) = compare.pairs(a, b, ["backend"])
    assert pair.key == (
        "benchmark=app",
        "scenario=Offline",
        "target=cpu",
        "profile=None",
        "mode=performance",
    )
    assert (pair.a["run_id"], pair.b["run_id"]) == ("o1", "p2")
    assert pair.ratios() == {"samples_per_s": 2.5}


def test_exports_hold_every_column(tmp_path: Path) -> None:
    rows = _store(tmp_path, make("e1", {"backend": "x"}, 1.5)).select()
    parsed: list[dict[str, Any]] = json.loads(export.to_json(rows))
    assert set(parsed[0]) == set(COLUMNS) and parsed[0]["variant"] == {"backend": "x"}
    table = list(csv.DictReader(io.StringIO(export.to_csv(rows))))
    assert list(table[0]) == list(COLUMNS) and table[0]["samples_per_s"] == "1.5"
