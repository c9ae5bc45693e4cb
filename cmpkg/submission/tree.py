"""`submission generate`: the official tree from the finished runs, written atomically.

    DIR/<division>/<submitter>/
        systems/<system>.json
        src/<benchmark>/cmpkg.lock, README.md, cmpkg-submission.json
        results/<system>/<benchmark>/<scenario>/
            README.md, user.conf, measurements.json, [mlperf.conf]
            performance/run_1/mlperf_log_summary.txt, mlperf_log_detail.txt
            accuracy/mlperf_log_summary.txt, mlperf_log_detail.txt, accuracy.txt,
                     mlperf_log_accuracy.json (truncated as the official tool does)
            TEST01/verify_accuracy.txt, verify_performance.txt, performance/run_1/...,
                   accuracy/mlperf_log_accuracy.json, accuracy.txt (its hash= line)
            TEST04/verify_performance.txt, performance/run_1/...

The folder and file names are the checker's (rules: `code-dir`, `*-files`). `files()`
computes every file's bytes in memory (pure given the run directories); `write()` puts
them in a temp dir beside DIR and renames it into place, so a rerun with unchanged inputs
is byte-identical and a crash leaves the previous tree whole.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.errors import CmpkgError
from cmpkg.submission.cells import Part
from cmpkg.submission.manifest import Submission
from cmpkg.submission.rules import Rules

SUMMARY, DETAIL = "mlperf_log_summary.txt", "mlperf_log_detail.txt"
ACC_LOG, ACC_TXT = "mlperf_log_accuracy.json", "accuracy.txt"
INFO = "cmpkg-submission.json"


@dataclass(frozen=True)
class Inputs:
    submission: Submission
    rules: Rules
    runs: Path  # the profile's runs directory (cells.runs_dir)
    profile: str
    lock: Path
    system: Mapping[str, str]  # the description, every field as it will be written


def truncate(log: bytes, limit: int, viewable: int, *, hashed: bool = True) -> bytes:
    """truncate_accuracy_log.py's cut: the first and last `viewable` bytes around a
    `...` line. The tool leaves a log alone when its accuracy.txt already has a hash and
    it is under `limit`, or when it is under `viewable`; it cuts every other one (a
    compliance log, whose accuracy.txt it creates, from `viewable` bytes on)."""
    if (hashed and len(log) < limit) or len(log) < viewable:
        return log
    return log[:viewable] + b"\n\n...\n\n" + log[-viewable:]


def with_hash(accuracy_txt: bytes, original_log: bytes, pattern: str) -> bytes:
    """accuracy.txt keeping (or gaining) the `hash=` line of the untruncated log."""
    lines = accuracy_txt.decode().splitlines()
    if any(re.match(pattern, line) for line in lines):
        return accuracy_txt
    digest = hashlib.sha256(original_log).hexdigest()
    return accuracy_txt + f"hash={digest}\n".encode()


def files(given: Inputs, parts: list[Part]) -> dict[str, bytes]:
    """Every file of the tree, by path relative to DIR."""
    sub = given.submission
    top = f"{sub.division}/{sub.submitter}"
    out: dict[str, bytes] = {f"{top}/systems/{sub.system}.json": _json(dict(given.system))}
    lock_bytes = given.lock.read_bytes()
    for bench in sub.benchmarks:
        src = f"{top}/{given.rules['code-dir']}/{bench.name}"
        out[f"{src}/cmpkg.lock"] = lock_bytes
        out[f"{src}/README.md"] = _code_readme(given, bench.name, lock_bytes).encode()
        info = _info(given, bench.name, [p for p in parts if p.benchmark == bench.name])
        out[f"{src}/{INFO}"] = _json(info)
        for scenario in bench.scenarios:
            cell = [p for p in parts if p.benchmark == bench.name and p.scenario == scenario]
            where = f"{top}/results/{sub.system}/{bench.name}/{scenario}"
            out |= _cell(given, bench.name, scenario, cell, where, lock_bytes)
    return out


def _cell(
    given: Inputs, bench: str, scenario: str, cell: list[Part], where: str, lock: bytes
) -> dict[str, bytes]:
    runs = given.runs / bench / scenario
    perf, acc = runs / "performance", runs / "accuracy"
    result = _result(perf)
    out = {
        f"{where}/README.md": _readme(given, bench, scenario, lock).encode(),
        f"{where}/user.conf": _user_conf(perf, result),
        f"{where}/measurements.json": _json(_measurements(given, bench, _result(acc))),
    }
    conf = (result.get("loadgen") or {}).get("mlperf_conf")
    if conf and conf != "built into LoadGen":
        out[f"{where}/mlperf.conf"] = Path(conf).read_bytes()
    for name in given.rules["performance-files"]:
        out[f"{where}/performance/run_1/{name}"] = _read(perf / "performance" / "run_1" / name)
    out |= _accuracy(given, acc / "accuracy", f"{where}/accuracy")
    for part in cell:
        if part.name.startswith("TEST"):
            out |= _compliance(given, runs / part.name / part.name, f"{where}/{part.name}")
    return out


def _accuracy(given: Inputs, run: Path, where: str) -> dict[str, bytes]:
    original = _read(run / ACC_LOG)
    rules = given.rules
    out = {f"{where}/{n}": _read(run / n) for n in (SUMMARY, DETAIL)}
    text = _read(run / ACC_TXT)
    out[f"{where}/{ACC_TXT}"] = with_hash(text, original, rules["hash-pattern"])
    hashed = any(re.match(rules["hash-pattern"], line) for line in text.decode().splitlines())
    limit, viewable = rules["max-accuracy-log-bytes"], rules["truncate-viewable-bytes"]
    out[f"{where}/{ACC_LOG}"] = truncate(original, limit, viewable, hashed=hashed)
    return out


def _compliance(given: Inputs, test_dir: Path, where: str) -> dict[str, bytes]:
    out = {}
    for name in ("verify_accuracy.txt", "verify_performance.txt"):
        if (test_dir / name).is_file():
            out[f"{where}/{name}"] = _read(test_dir / name)
    run = test_dir / "performance" / "run_1"
    for name in given.rules["performance-files"]:
        out[f"{where}/performance/run_1/{name}"] = _read(run / name)
    if (run / ACC_LOG).is_file() and (test_dir / "verify_accuracy.txt").is_file():
        out |= _compliance_accuracy(given, _read(run / ACC_LOG), f"{where}/accuracy")
    return out


def _compliance_accuracy(given: Inputs, log: bytes, where: str) -> dict[str, bytes]:
    """TEST01's accuracy folder as run_verification.py leaves it and the truncation tool
    finishes it: the performance-mode log, cut, and an accuracy.txt holding its hash."""
    rules = given.rules
    limit, viewable = rules["max-accuracy-log-bytes"], rules["truncate-viewable-bytes"]
    return {
        f"{where}/{ACC_TXT}": with_hash(b"", log, rules["hash-pattern"]),
        f"{where}/{ACC_LOG}": truncate(log, limit, viewable, hashed=False),
    }


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise CmpkgError(
            "submission-incomplete",
            f"{path} is missing",
            hint="finish the runs first: `cmpkg submission run`",
        ) from None


def _result(part_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_read(part_dir / "result.json"))
    return data


def _json(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _user_conf(perf: Path, result: dict[str, Any]) -> bytes:
    """The user.conf the performance run read, and any setting laid over it (smoke)."""
    text = _read(perf / "user.conf").decode()
    overrides = (result.get("loadgen") or {}).get("settings_overrides") or {}
    if overrides:
        text += (
            f"# {result.get('profile')} profile: set on top of this file (not a compliant run):\n"
        )
        text += "".join(f"#   {k} = {v}\n" for k, v in sorted(overrides.items()))
    return text.encode()


#: measurements.json fields read from the app's result.json `run` section, else these.
MEASUREMENT_DEFAULTS = {
    "retraining": "No",
    "input_data_types": "fp32",
    "weight_data_types": "fp32",
    "weight_transformations": "none",
}


def _measurements(given: Inputs, bench: str, result: dict[str, Any]) -> dict[str, str]:
    run = result.get("run") or {}
    model = (run.get("model") or {}).get("path") or ""
    precision = run.get("precision")
    out = dict(MEASUREMENT_DEFAULTS)
    if precision:
        out["input_data_types"] = out["weight_data_types"] = str(precision)
    out["starting_weights_filename"] = Path(model).name if model else ""
    found = given.submission.benchmark(bench)
    return out | dict(found.measurements if found else ())


def _commands(given: Inputs, bench: str, scenario: str | None, lock: bytes) -> list[str]:
    sha = hashlib.sha256(lock).hexdigest()
    target = f" --target {given.submission.target}" if given.submission.target else ""
    where = f"--benchmark {bench}" + (f" --scenario {scenario}" if scenario else "")
    code = f"{given.rules['code-dir']}/{bench}/cmpkg.lock"
    return [
        f"# in {given.submission.division}/{given.submission.submitter}/: lock sha256 {sha}",
        f"cmpkg install --frozen --lock {code} --env submission{target}",
        f"cmpkg submission run {where} --profile {given.profile}",
        f"cmpkg submission reproduce SUBMISSION_DIR {where}",
    ]


def _readme(given: Inputs, bench: str, scenario: str, lock: bytes) -> str:
    banner = _banner(given.profile)
    body = "\n".join(_commands(given, bench, scenario, lock))
    return (
        f"# {bench} {scenario}\n\n{banner}Generated by cmpkg from the lock in "
        f"`{given.rules['code-dir']}/{bench}/cmpkg.lock`. To reproduce this result:\n\n"
        f"```sh\n{body}\n```\n"
    )


def _code_readme(given: Inputs, bench: str, lock: bytes) -> str:
    body = "\n".join(_commands(given, bench, None, lock))
    found = given.submission.benchmark(bench)
    app = found.app if found else bench
    return (
        f"# {bench}\n\n{_banner(given.profile)}The code is the index app `{app}` and its "
        f"stack, pinned by `cmpkg.lock` (every package with its sha256).\n\n```sh\n{body}\n```\n"
    )


def _banner(profile: str) -> str:
    if profile == "full":
        return ""
    return "**SMOKE RUN: short settings, not a valid submission-length run.**\n\n"


def _info(given: Inputs, bench: str, parts: list[Part]) -> dict[str, Any]:
    """What `submission reproduce` needs: the app, target, profile and each cell's figures."""
    found = given.submission.benchmark(bench)
    cells: dict[str, Any] = {}
    for part in parts:
        if part.name != "accuracy":
            continue
        acc = _result(given.runs / bench / part.scenario / "accuracy").get("accuracy") or {}
        perf = _result(given.runs / bench / part.scenario / "performance").get("performance")
        cells[part.scenario] = {
            "accuracy": {"metric": acc.get("metric"), "value": acc.get("value")},
            "performance": {k: (perf or {}).get(k) for k in ("metric", "value", "valid")},
        }
    return {
        "app": found.app if found else bench,
        "args": list(found.args) if found else [],
        "profile": given.profile,
        "round": given.rules.round,
        "target": given.submission.target,
        "cells": cells,
    }


def write(destination: Path, content: Mapping[str, bytes]) -> None:
    """Write the tree into a temp dir beside `destination`, then rename it into place."""
    destination = destination.absolute()
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = destination.with_name(f".{destination.name}.tmp-{os.getpid()}")
    old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    for relative, data in sorted(content.items()):
        path = staging / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    if destination.exists():
        destination.rename(old)
    staging.rename(destination)
    shutil.rmtree(old, ignore_errors=True)
