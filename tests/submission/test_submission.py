"""`cmpkg submission`: a real smoke submission of two tiny benchmarks on the shared harness,
its official tree, the checks (and what breaks them), resuming and reproducing a cell."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from cmpkg.submission import rules as round_rules
from cmpkg.submission.check import check
from cmpkg.submission.tree import truncate, with_hash
from tests.submission.conftest import Smoke, cmpkg, ok


def mlperf_loadgen_version() -> str:
    from importlib.metadata import version

    return version("mlcommons-loadgen")


pytestmark = pytest.mark.slow
SYSTEM = "closed/TinyOrg/systems"
CELL = "closed/TinyOrg/results/{system}/{bench}/{scenario}"


def _generate(smoke: Smoke, where: Path) -> Path:
    ok(cmpkg(smoke.project, smoke.home, "submission", "generate", where, "--profile", "smoke"))
    return where


@pytest.fixture(scope="module")
def tree(smoke: Smoke, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _generate(smoke, tmp_path_factory.mktemp("tree") / "submission")


def _system_name(tree: Path) -> str:
    return next((tree / SYSTEM).glob("*.json")).stem


def test_the_run_said_its_plan_and_estimate_and_marked_the_smoke_profile(smoke: Smoke) -> None:
    first = smoke.run.stderr.splitlines()[0]
    assert first.startswith("18 of 18 runs to do (SMOKE RUN") and "estimate: about" in first


def test_the_tree_has_the_checker_layout(tree: Path) -> None:
    system = _system_name(tree)
    cell = tree / CELL.format(system=system, bench="resnet50", scenario="Offline")
    for name in (
        "README.md",
        "user.conf",
        "measurements.json",
        "performance/run_1/mlperf_log_detail.txt",
        "accuracy/accuracy.txt",
        "accuracy/mlperf_log_accuracy.json",
        "TEST01/verify_accuracy.txt",
        "TEST01/verify_performance.txt",
        "TEST01/performance/run_1/mlperf_log_summary.txt",
        "TEST04/verify_performance.txt",
    ):
        assert (cell / name).is_file(), name
    bert = tree / CELL.format(system=system, bench="bert-99", scenario="Offline")
    assert (bert / "TEST01").is_dir() and not (bert / "TEST04").exists()  # TEST04: resnet only
    assert (tree / "closed/TinyOrg/src/resnet50/cmpkg.lock").is_file()
    assert "SMOKE RUN" in (cell / "README.md").read_text()
    assert "cmpkg install --frozen" in (cell / "README.md").read_text()


def test_check_reports_nothing_but_the_smoke_runs_length(tree: Path) -> None:
    rules = round_rules.load("v6.0")
    failures = check(tree, rules)
    errors = [f for f in failures if not f.warning]
    # performance verification compares two timed runs: its verdict is a measurement
    timing = [
        f
        for f in errors
        if f.rule == "compliance-failed" and f.path.endswith("verify_performance.txt")
    ]
    # The tests run on this interpreter's LoadGen, not the round's release: unless it is
    # that release, every performance log (5 cells, 8 compliance runs) has other seeds.
    seeds = [f for f in errors if f.rule == "seeds"]
    if mlperf_loadgen_version() != rules["loadgen"]["version"]:
        assert len(seeds) == 13 and all(rules["loadgen"]["version"] in f.message for f in seeds)
    rest = [f.render() for f in errors if f not in timing and f not in seeds and not f.run_length]
    assert rest == []
    assert {f.rule for f in errors if f.run_length} >= {"min-duration", "dataset-size"}
    accuracy_checks = list(tree.glob("closed/*/results/*/*/*/TEST01/verify_accuracy.txt"))
    assert len(accuracy_checks) == 5 and all("TEST PASS" in p.read_text() for p in accuracy_checks)


def _requested(detail: Path) -> dict[str, Any]:
    """The settings LoadGen was asked for (`requested_*`) in a detail log."""
    out: dict[str, Any] = {}
    for line in detail.read_text().splitlines():
        if line.startswith(":::MLLOG"):
            entry = json.loads(line[len(":::MLLOG") :])
            if entry["key"].startswith("requested_"):
                out.setdefault(entry["key"], entry["value"])
    return out


AUDIT_KEYS = ("accuracy_log", "performance_issue")  # what audit.config changes, on purpose


def test_a_compliance_run_has_its_reference_performance_runs_settings(smoke: Smoke) -> None:
    # A verification compares the two runs: run under other settings (smoke settings
    # follow a rate calibrated per run) it would measure the settings, not the SUT.
    runs = smoke.project / "results/submission/smoke"
    detail = "performance/run_1/mlperf_log_detail.txt"
    tests = sorted(runs.glob("*/*/TEST0?"))
    assert len(tests) == 8  # TEST01 in 5 cells, TEST04 in resnet50's 3
    for test in tests:
        reference = _requested(test.parent / "performance" / detail)
        got = _requested(test / test.name / detail)
        differ = {
            k: (reference.get(k), got.get(k))
            for k in reference.keys() | got.keys()
            if reference.get(k) != got.get(k) and not any(a in k for a in AUDIT_KEYS)
        }
        assert reference and differ == {}, test


def test_generate_is_byte_identical_when_rerun(smoke: Smoke, tree: Path, tmp_path: Path) -> None:
    again = _generate(smoke, tmp_path / "again")
    first = {p.relative_to(tree): p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first == second


@pytest.mark.parametrize(
    ("breakage", "rule", "named"),
    [
        ("field", "system-field", "host_processor_model_name"),
        ("scenario", "scenario-missing", "MultiStream"),
        ("compliance", "compliance-missing", "TEST04"),
        ("verification", "compliance-file", "verify_accuracy.txt"),
        ("test01-hash", "file-set", "missing accuracy.txt"),
        ("extra-file", "file-set", "unexpected notes.txt"),
        ("hidden", "name", ".DS_Store"),
        ("unknown-scenario", "scenario-unknown", "Server"),
    ],
)
def test_check_fails_naming_what_was_removed(
    smoke: Smoke, tree: Path, tmp_path: Path, breakage: str, rule: str, named: str
) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(tree, copy)
    system = _system_name(copy)
    cell = copy / CELL.format(system=system, bench="resnet50", scenario="Offline")
    if breakage == "field":
        path = copy / SYSTEM / f"{system}.json"
        data = json.loads(path.read_text())
        del data["host_processor_model_name"]
        path.write_text(json.dumps(data))
    elif breakage == "scenario":
        shutil.rmtree(cell.parent / "MultiStream")
    elif breakage == "compliance":
        shutil.rmtree(cell / "TEST04")
    elif breakage == "verification":
        (cell / "TEST01" / "verify_accuracy.txt").unlink()
    elif breakage == "test01-hash":
        (cell / "TEST01" / "accuracy" / "accuracy.txt").unlink()
    elif breakage == "extra-file":
        (cell / "accuracy" / "notes.txt").write_text("x")
    elif breakage == "hidden":
        (cell / ".DS_Store").write_text("x")
    else:
        shutil.copytree(cell, cell.parent / "Server")
    done = cmpkg(smoke.project, smoke.home, "submission", "check", copy)
    assert done.returncode == 1
    lines = [line for line in done.stdout.splitlines() if f": {rule}: " in line]
    assert lines and named in " ".join(lines), done.stdout


def test_a_finished_run_is_not_rerun_and_an_unfinished_one_is(smoke: Smoke) -> None:
    again = ok(cmpkg(smoke.project, smoke.home, "submission", "run", "--profile", "smoke"))
    assert again.stderr.startswith("0 of 18 runs to do")
    runs = smoke.project / "results" / "submission" / "smoke"
    (runs / "bert-99" / "Offline" / "accuracy" / "done.json").unlink()  # as if interrupted
    resumed = ok(cmpkg(smoke.project, smoke.home, "submission", "run", "--profile", "smoke"))
    assert resumed.stderr.startswith("1 of 18 runs to do")
    assert "bert-99 Offline accuracy: PASS" in resumed.stderr


def test_reproduce_on_a_fresh_home_matches_the_accuracy_exactly(
    smoke: Smoke, tree: Path, tmp_path: Path
) -> None:
    done = cmpkg(
        tmp_path,
        tmp_path / "fresh-home",
        "submission",
        "reproduce",
        tree,
        "--benchmark",
        "bert-99",
        "--scenario",
        "Offline",
        "--index",
        smoke.index,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches" in done.stdout.splitlines()[0]


def test_truncation_keeps_the_original_hash() -> None:
    log = b"[" + b'{"qsl_idx": 1, "data": "00"},' * 1000 + b"]"
    cut = truncate(log, 10240, 4096)
    assert len(cut) == 4096 * 2 + len(b"\n\n...\n\n") and cut.startswith(log[:4096])
    text = with_hash(b"accuracy=1.0%\n", log, r"^hash=([\w\d]+)$")
    import hashlib

    assert text.endswith(f"hash={hashlib.sha256(log).hexdigest()}\n".encode())
    assert truncate(b"[]", 10240, 4096) == b"[]"


CHECKER_RECIPE = """name = "mlperf-inference-source"
version = "6.0"
kind = "tool"
tags = ["mlperf", "submission-checker", "source"]
summary = "a stand-in of the mlcommons/inference source, served on loopback"
license = "Apache-2.0"
homepage = "https://example.org/inference"
depends = ["python >=3.10"]

[provide]
method = "download"

[[sources]]
url = "{url}"
sha256 = "{sha256}"
size = {size}
extract = true
verified = "made by the test"
"""


def _standin_archive() -> bytes:
    import io
    import tarfile

    script = (Path(__file__).parent / "checker_standin" / "main.py").read_bytes()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        info = tarfile.TarInfo("tools/submission/submission_checker/main.py")
        info.size, info.mode = len(script), 0o644
        archive.addfile(info, io.BytesIO(script))
    return buffer.getvalue()


def test_check_official_runs_the_installed_checker_and_shows_its_verdict(
    smoke: Smoke, tree: Path, tmp_path: Path, http_server: Any
) -> None:
    import hashlib

    blob = _standin_archive()
    url = http_server.serve("/inference-v6.0.tar.gz", blob)
    index = tmp_path / "checker-index"
    (index / "tools").mkdir(parents=True)
    recipe = CHECKER_RECIPE.format(url=url, sha256=hashlib.sha256(blob).hexdigest(), size=len(blob))
    (index / "tools" / "mlperf-inference-source.toml").write_text(recipe)
    ok(
        cmpkg(
            tmp_path,
            smoke.home,
            "install",
            "mlperf-inference-source",
            "--env",
            "mlperf-inference-source",
            "--index",
            smoke.index,
            "--index",
            index,
        )
    )
    done = cmpkg(tmp_path, smoke.home, "submission", "check", tree, "--official")
    assert "official checker: exit 0; submission looks OK" in done.stdout, done.stdout + done.stderr
    broken = tmp_path / "broken"
    shutil.copytree(tree, broken)
    path = next((broken / SYSTEM).glob("*.json"))
    data = json.loads(path.read_text())
    del data["framework"]
    path.write_text(json.dumps(data))
    done = cmpkg(tmp_path, smoke.home, "submission", "check", broken, "--official")
    assert done.returncode == 1
    assert "official checker: exit 1; submission has errors" in done.stdout
    assert any(
        "field framework is missing" in line
        for line in done.stdout.splitlines()
        if line.startswith("official: ")
    )
