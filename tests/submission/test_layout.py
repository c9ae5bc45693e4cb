"""The tree-wide rules of `submission check` (names, stray files, sizes, exact file sets),
the network flag of the system description and the truncation tool's rule, on small trees."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path

from cmpkg.submission import layout, rules
from cmpkg.submission.check import check
from cmpkg.submission.tree import truncate, with_hash

V60 = rules.load("v6.0")


def _collect(root: Path) -> tuple[list[tuple[str, str, str]], layout.Fail]:
    found: list[tuple[str, str, str]] = []

    def fail(path: Path, rule: str, message: str) -> None:
        found.append((str(path.relative_to(root)), rule, message))

    return found, fail


def _touch(path: Path, data: bytes = b"x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def test_the_root_and_division_folders_hold_only_what_the_checker_allows(tmp_path: Path) -> None:
    _touch(tmp_path / "README.md")  # tolerated at the root, as .pdf is
    _touch(tmp_path / "summary.csv")
    _touch(tmp_path / "closed" / "notes.txt")
    _touch(tmp_path / "closed" / "Org" / "results" / "a.txt")
    found, fail = _collect(tmp_path)
    layout.check_root(tmp_path, V60, fail)
    assert [(p, r) for p, r, _ in found] == [
        ("summary.csv", "stray-file"),
        ("closed/notes.txt", "stray-file"),
    ]


def test_hidden_spaced_cache_empty_broken_and_oversized_entries_are_named(tmp_path: Path) -> None:
    top = tmp_path / "Org"
    _touch(top / "src" / ".gitignore")
    _touch(top / "src" / "my notes.md")
    _touch(top / "src" / "__pycache__" / "m.pyc")
    (top / "results" / "empty").mkdir(parents=True)
    (top / "src" / "gone").symlink_to(top / "nowhere")
    _touch(top / "src" / "big.bin", b"x" * 11)
    small = replace(V60, data={**V60.data, "max-file-bytes": 10})
    found, fail = _collect(tmp_path)
    layout.check_entries(top, small, fail)
    assert sorted((p, r) for p, r, _ in found) == [
        ("Org/results/empty", "empty-dir"),
        ("Org/src/.gitignore", "name"),
        ("Org/src/__pycache__", "name"),
        ("Org/src/big.bin", "file-size"),
        ("Org/src/gone", "broken-link"),
        ("Org/src/my notes.md", "name"),
    ]


def test_a_known_folder_must_hold_exactly_its_files(tmp_path: Path) -> None:
    run = tmp_path / "run_1"
    for name in ("mlperf_log_summary.txt", "mlperf_log_trace.json", "extra.log"):
        _touch(run / name)
    found, fail = _collect(tmp_path)
    required = V60["performance-files"]
    layout.check_file_set(run, V60, required, V60["performance-optional-files"], fail)
    assert found == [
        ("run_1", "file-set", "missing mlperf_log_detail.txt; unexpected extra.log"),
    ]


def test_the_network_flag_must_be_an_absent_or_string_field(tmp_path: Path) -> None:
    top = tmp_path / "closed" / "Org"
    _touch(top / "results" / "sys" / "keep.txt")
    for flag, said in ((False, "must be a string"), ("true", "true in the closed division")):
        _touch(top / "systems" / "sys.json", json.dumps({"is_network": flag}).encode())
        lines = [f.render() for f in check(tmp_path, V60) if f.rule == "system-network"]
        assert len(lines) == 1 and said in lines[0], lines


def test_truncation_follows_the_official_tool() -> None:
    middle = b'{"qsl_idx": 1, "data": "00"},' * 200  # about 6 KB: between 4 and 10 KiB
    log = b"[" + middle + b"]"
    cut = truncate(log, 10240, 4096, hashed=False)  # no hash yet: the tool cuts from 4096 on
    assert cut == log[:4096] + b"\n\n...\n\n" + log[-4096:]
    assert truncate(log, 10240, 4096, hashed=True) == log  # hashed and under the limit
    big = b"[" + middle * 2 + b"]"
    assert len(truncate(big, 10240, 4096, hashed=True)) == 4096 * 2 + 7
    assert truncate(b"[]", 10240, 4096, hashed=False) == b"[]"
    digest = hashlib.sha256(log).hexdigest()
    assert with_hash(b"", log, V60["hash-pattern"]) == f"hash={digest}\n".encode()


def test_a_verification_failed_by_an_invalid_run_is_told_from_a_failed_comparison(
    tmp_path: Path,
) -> None:
    top = tmp_path / "closed" / "Org"
    _touch(top / "systems" / "sys.json", json.dumps({"system_type": "edge"}).encode())
    verify = top / "results" / "sys" / "resnet50" / "Offline" / "TEST01" / "verify_performance.txt"
    said = {}
    for verdict in ("TEST FAIL: Reference results are invalid", "TEST FAIL: Test score invalid"):
        _touch(verify, f"Verifying performance.\n{verdict}\n".encode())
        found = [f for f in check(tmp_path, V60) if f.path.endswith("verify_performance.txt")]
        said[verdict] = [(f.rule, f.run_length) for f in found]
    assert said == {
        "TEST FAIL: Reference results are invalid": [("compliance-invalid", True)],
        "TEST FAIL: Test score invalid": [("compliance-failed", False)],
    }
    # The same failed comparison between two 2-second runs: run length, and still reported.
    detail = verify.parent / "performance" / "run_1" / "mlperf_log_detail.txt"
    entry = {"key": "effective_min_duration_ms", "value": 2000}
    _touch(detail, f":::MLLOG {json.dumps(entry)}\n".encode())
    found = [f for f in check(tmp_path, V60) if f.path.endswith("verify_performance.txt")]
    assert [(f.rule, f.run_length) for f in found] == [("compliance-short", True)]
    assert "runs of 2 s compared; the round's bound is for 600 s" in found[0].message
