"""The LoadGen tests of one invocation: settings, estimate, each mode, their outputs.

One TestSettings serves every mode of the invocation (LoadGen applies its built-in
mlperf.conf once per process); each mode gets a fresh SUT and its own log directory.
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mlperf_harness import (
    accuracy_log,
    compliance,
    estimate,
    layout,
    profiles,
    report,
    settings,
    test06,
    tokens,
)
from mlperf_harness.benchmark import Benchmark, Opened
from mlperf_harness.profiles import Profile
from mlperf_harness.progress import Progress
from mlperf_harness.settings import LoadgenOptions
from mlperf_harness.summary import parse_summary, results_block
from mlperf_harness.sut import Qsl, Sut, run_test

CALIBRATION_BATCHES = 2
CALIBRATION_BATCH = 8


@dataclass(frozen=True, slots=True)
class Outcome:
    modes: tuple[str, ...]
    performance: dict[str, Any] | None
    accuracy: dict[str, Any] | None
    loadgen: dict[str, Any]
    loadgen_block: str | None
    profile: Profile  # as run (smoke settings follow the measured rate)
    rate: float  # samples/s measured before the run
    verification: dict[str, Any] | None = None  # a compliance test's own check (TEST06)


def rules_of(test_settings: Any, scenario: str) -> estimate.Rules:
    qps_key = "server_target_qps" if scenario == "Server" else "offline_expected_qps"
    return estimate.Rules(
        scenario=scenario,
        min_duration_s=test_settings.min_duration_ms / 1000,
        max_duration_s=test_settings.max_duration_ms / 1000,
        min_query_count=int(test_settings.min_query_count),
        expected_qps=float(getattr(test_settings, qps_key)),
        samples_per_query=int(test_settings.multi_stream_samples_per_query),
    )


def calibrate(opened: Opened, qsl: Qsl, batch: int) -> float:
    """Samples per second over a few batches of real samples (untimed by LoadGen)."""
    indices = list(range(min(qsl.count, batch)))
    qsl.load_query_samples(indices)
    positions = np.arange(len(indices), dtype=np.int64)
    began = time.perf_counter()
    for _ in range(CALIBRATION_BATCHES):
        opened.backend.launch(positions).wait()
    elapsed = time.perf_counter() - began
    qsl.unload_query_samples(indices)
    return CALIBRATION_BATCHES * len(indices) / max(elapsed, 1e-9)


def expected_samples(rules: estimate.Rules, profile: Profile, rate: float | None) -> int | None:
    if rules.scenario == "Offline":
        return max(rules.min_query_count, math.ceil(rules.expected_qps * rules.min_duration_s))
    return estimate.performance(rules, rate).samples if rate else None


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _announce(
    profile: Profile, rules: estimate.Rules, modes: tuple[str, ...], rate: float | None, count: int
) -> None:
    if profile.label:
        _say(f"{profile.label}: {profile.description}, {' then '.join(modes)}")
    if rate is None:
        return
    for mode in modes:
        guess = (
            estimate.performance(rules, rate)
            if mode == "performance"
            else estimate.accuracy(count, rate)
        )
        _say(
            f"estimate: {rules.scenario} {mode} run needs {guess.render()} "
            f"at the {rate:.1f} samples/s measured here"
        )


def run_modes(
    benchmark: Benchmark,
    opened: Opened,
    profile: Profile,
    options: LoadgenOptions,
    modes: tuple[str, ...],
    test: str | None,
    run_dir: Path,
    settings_rate: float | None = None,
) -> Outcome:
    """``settings_rate``: the rate smoke settings follow instead of this run's calibration
    (a compliance run's reference performance run's, so the two differ in nothing but the
    audit.config: a verification comparing runs of different settings measures those)."""
    qsl = Qsl(opened.dataset, opened.backend)
    opened.backend.warmup(opened.warmup_batch)
    rate = calibrate(opened, qsl, min(opened.max_batch, CALIBRATION_BATCH))
    followed = settings_rate or rate
    if not profile.submission_length:  # smoke settings follow the measured rate
        profile = profiles.named(profile.name, qsl.count, options.scenario, followed)
    user_conf = settings.user_conf_path(options, run_dir)
    test_settings = settings.build(benchmark.loadgen_model, profile, options, user_conf, modes[0])
    if opened.tokens is not None:
        test_settings.use_token_latencies = True  # token counts; TTFT and TPOT
    rules = rules_of(test_settings, options.scenario)
    _announce(profile, rules, modes, rate, qsl.count)
    audit = compliance.place(test, run_dir)
    perf = acc = verification = None
    block = None
    for mode in modes:
        out = layout.mode_dir(run_dir, mode, test)
        out.mkdir(parents=True, exist_ok=True)
        settings.set_mode(test_settings, mode)
        total = expected_samples(rules, profile, rate) if mode == "performance" else qsl.count
        _one_test(opened, qsl, test_settings, out, str(audit), f"{mode}", total, options.scenario)
        if mode == "performance":
            text = (out / "mlperf_log_summary.txt").read_text()
            block = results_block(text)
            perf = report.performance_section(parse_summary(text), rules.samples_per_query, out)
            verification = _verify(test, opened, options.scenario, run_dir, out)
        else:
            acc = _score(benchmark, opened, out)
    loadgen = {
        "round": _round(),
        "mlperf_conf": str(options.mlperf_conf) if options.mlperf_conf else "built into LoadGen",
        "user_conf": str(user_conf),
        "settings_overrides": settings.overrides(profile, options),
        "performance_sample_count": settings.performance_count(test_settings, qsl.count),
        "audit_config": str(audit) if test else None,
        "calibrated_samples_per_second": round(rate, 3),
        # unrounded: a compliance run given it derives exactly these settings again
        "settings_samples_per_second": followed,
    }
    return Outcome(modes, perf, acc, loadgen, block, profile, rate, verification)


def _one_test(
    opened: Opened,
    qsl: Qsl,
    test_settings: Any,
    out: Path,
    audit: str,
    label: str,
    total: int | None,
    scenario: str,
) -> None:
    progress = Progress(label, total)
    sut: Sut | tokens.TokenSut
    if opened.tokens is None:
        sut = Sut(opened.backend, qsl, opened.max_batch, progress.advance)
    else:
        first = tokens.reports_first_token(scenario)
        backend: Any = opened.backend
        sut = tokens.TokenSut(backend, qsl, opened.tokens, first, progress.advance)
    try:
        perf_count = settings.performance_count(test_settings, qsl.count)
        run_test(sut, qsl, perf_count, test_settings, settings.log_settings(out), audit)
    finally:
        sut.stop()
        progress.close()


def _verify(
    test: str | None, opened: Opened, scenario: str, run_dir: Path, out: Path
) -> dict[str, Any] | None:
    """TEST06's checks over its run's accuracy log (the other tests have none here)."""
    if test != "TEST06" or opened.tokens is None:
        return None
    log = out / "mlperf_log_accuracy.json"
    eos, dtype = opened.tokens.eos_token_id, opened.tokens.dtype
    return test06.verify_run(run_dir / test, log, scenario, eos, dtype)


def _score(benchmark: Benchmark, opened: Opened, out: Path) -> dict[str, Any]:
    log = out / "mlperf_log_accuracy.json"
    score = opened.score(accuracy_log.unique_by_sample(accuracy_log.read_entries(log)))
    (out / "accuracy.txt").write_text(accuracy_log.accuracy_text(score.lines, log))
    return report.accuracy_section(score, benchmark.accuracy_target, out)


def _round() -> str | None:
    """The MLPerf round whose mlperf.conf LoadGen carries: its major.minor version."""
    import importlib.metadata

    try:
        version = importlib.metadata.version("mlcommons-loadgen")
    except importlib.metadata.PackageNotFoundError:
        return None
    return "v" + ".".join(version.split(".")[:2])
