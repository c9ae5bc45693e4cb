"""Running one part: the app's harness in the submission's environment, then the round's
verification of a compliance test, then `done.json` (the only marker of a finished part).

The environment is the one `cmpkg install --locked` built from the project's lock
(`install`); each benchmark's app runs with its own recipe's run command in it, so one lock
and one environment serve every benchmark of the submission.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cmpkg import atomic
from cmpkg.errors import CmpkgError
from cmpkg.submission import verify
from cmpkg.submission.cells import BASE_PARTS, DONE, Part
from cmpkg.submission.rules import Rules

ENV_NAME = "submission"


@dataclass(frozen=True)
class PartResult:
    part: Part
    code: int
    seconds: float
    verdict: str  # "VALID", "INVALID", "TEST PASS", "TEST FAIL", "failed"


def install(root: Path, lock: Path, target: str | None, extra: Sequence[str]) -> None:
    """`cmpkg install --locked` of the project's lock into the submission's environment."""
    argv = [sys.executable, "-m", "cmpkg", "install", "--locked", "--lock", str(lock)]
    argv += ["--env", ENV_NAME, *(("--target", target) if target else ()), *extra]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise CmpkgError(
            "submission-install-failed",
            f"installing {lock} failed (exit {done.returncode})",
            hint=f"run `{' '.join(argv[2:])}` to see why",
            details=tail,
        )


def run_part(
    part: Part,
    command: Sequence[str],
    environ: Mapping[str, str],
    runs: Path,
    rules: Rules,
) -> PartResult:
    where = part.directory(runs)
    if where.exists():  # an interrupted attempt: start it again from nothing
        shutil.rmtree(where)
    where.mkdir(parents=True)
    began = time.monotonic()
    with (where / "run.log").open("wb") as log:
        log.write(f"$ {' '.join(command)}\n".encode())
        log.flush()
        code = subprocess.call(
            list(command), stdout=log, stderr=subprocess.STDOUT, env=dict(environ)
        )
    seconds = round(time.monotonic() - began, 3)
    if code != 0:
        return PartResult(part, code, seconds, "failed")
    _check_benchmark(part, where)
    verdict = _verdict(part, where, runs, rules)
    record = {"part": part.name, "exit_code": code, "wall_seconds": seconds, "verdict": verdict}
    atomic.write_text(where / DONE, json.dumps(record, indent=1, sort_keys=True) + "\n")
    return PartResult(part, code, seconds, verdict)


def _check_benchmark(part: Part, where: Path) -> None:
    """The app must have run the cell's benchmark: an app of several accuracy levels runs its
    default one unless told, and its results would be filed under another benchmark's name
    and target. Stops the whole run (no `done.json`: the part runs again once fixed)."""
    result = where / "result.json"
    ran = json.loads(result.read_text()).get("benchmark") if result.is_file() else None
    if ran is not None and ran != part.benchmark:
        raise CmpkgError(
            "wrong-benchmark",
            f"{result}: the app ran {ran}, but this cell is {part.benchmark}",
            hint=f"give the app its level in [submission.benchmarks.{part.benchmark}] of "
            'cmpkg.toml, e.g. `args = ["--level", "99"]`',
        )


def _verdict(part: Part, where: Path, runs: Path, rules: Rules) -> str:
    if part.name not in ("accuracy", "performance"):
        return _verify(part, where, runs, rules)
    result = json.loads((where / "result.json").read_text())
    if part.name == "accuracy":
        passed = (result.get("accuracy") or {}).get("passed")
        return {True: "PASS", False: "FAIL", None: "no target"}[passed]
    return {True: "VALID", False: "INVALID", None: "no verdict"}[result.get("valid")]


def _verify(part: Part, where: Path, runs: Path, rules: Rules) -> str:
    """The verification files beside the compliance run (`<part>/TEST0x/verify_*.txt`)."""
    cell = where.parent
    test_dir = where / part.name
    detail = "performance/run_1/mlperf_log_detail.txt"
    texts = {
        "verify_performance.txt": verify.performance(
            part.name, cell / "performance" / detail, test_dir / detail, rules
        )
    }
    if part.name == "TEST01":
        texts["verify_accuracy.txt"] = verify.test01_accuracy(
            cell / "accuracy" / "accuracy" / "mlperf_log_accuracy.json",
            test_dir / "performance" / "run_1" / "mlperf_log_accuracy.json",
        )
    for name, text in texts.items():
        atomic.write_text(test_dir / name, text)
    return "TEST PASS" if all(verify.passed(t) for t in texts.values()) else "TEST FAIL"


def reference_args(part: Part, runs: Path) -> tuple[str, ...]:
    """A compliance part's harness flags that make it run under its reference performance
    run's LoadGen settings (`--settings-rate`: smoke settings follow a calibrated rate,
    which would differ run to run). The verification compares the two runs' results, so
    they must differ in nothing but the audit.config, as compliance/TEST01 and TEST04 run
    them (the same user.conf)."""
    if part.name in BASE_PARTS:
        return ()
    reference = runs / part.benchmark / part.scenario / "performance" / "result.json"
    try:
        loadgen = json.loads(reference.read_text()).get("loadgen") or {}
    except (OSError, ValueError):
        return ()  # no reference yet: its verification reports the missing run
    rate = loadgen.get("settings_samples_per_second") or loadgen.get(
        "calibrated_samples_per_second"
    )
    return ("--settings-rate", repr(float(rate))) if rate else ()


def app_environment(variables: Mapping[str, str], part_dir: Path) -> dict[str, str]:
    env = dict(variables)
    env.setdefault("PYTHONDONTWRITEBYTECODE", "1")
    env["CMPKG_RESULTS_DIR"] = str(part_dir)
    env.setdefault("CMPKG_NO_PROGRESS", "1")
    return env


def measured(runs: Path) -> dict[str, float]:
    """Seconds per part kind, from the parts finished before (the estimate's data)."""
    seen: dict[str, list[float]] = {}
    for done in runs.glob(f"*/*/*/{DONE}"):
        try:
            data = json.loads(done.read_text())
        except (OSError, ValueError):
            continue
        seen.setdefault(str(data.get("part")), []).append(float(data.get("wall_seconds", 0)))
    return {k: sum(v) / len(v) for k, v in seen.items() if v}
