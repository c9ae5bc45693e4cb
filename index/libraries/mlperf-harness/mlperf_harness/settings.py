"""LoadGen TestSettings from the round's rules, the user's conf, a profile and flags.

Order (later wins): mlperf.conf (LoadGen's built-in copy for its round, or
``--mlperf-conf`` for another round), user.conf, the profile's settings, explicit flags.
LoadGen applies its built-in mlperf.conf on the first ``FromConfig`` call of a process
only, so one run builds ONE TestSettings and changes only its mode between runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlperf_loadgen as lg

from mlperf_harness.profiles import Profile

SCENARIOS = ("Offline", "SingleStream", "MultiStream", "Server")
MODES = {"performance": "PerformanceOnly", "accuracy": "AccuracyOnly"}
# FromConfig's conf_type: 0 reads a file as mlperf.conf, 1 as user.conf.
MLPERF_CONF, USER_CONF = 0, 1
NO_USER_CONF = "# no --user-conf: the round's mlperf.conf and the profile's settings only\n"


@dataclass(frozen=True, slots=True)
class LoadgenOptions:
    """What the flags ask of LoadGen; None means "not given"."""

    scenario: str = "Offline"
    mlperf_conf: Path | None = None
    user_conf: Path | None = None
    target_qps: float | None = None
    target_latency_ms: float | None = None
    min_duration_ms: int | None = None
    max_duration_ms: int | None = None
    min_query_count: int | None = None
    max_query_count: int | None = None
    performance_sample_count: int | None = None
    samples_per_query: int | None = None
    extra: dict[str, float | int] = field(default_factory=dict)


def flag_overrides(options: LoadgenOptions) -> dict[str, float | int]:
    """The flag-given settings, by TestSettings attribute."""
    out: dict[str, float | int] = dict(options.extra)
    if options.target_qps is not None:
        out["offline_expected_qps"] = options.target_qps
        out["server_target_qps"] = options.target_qps
    if options.target_latency_ms is not None:
        ns = int(options.target_latency_ms * 1e6)
        out["server_target_latency_ns"] = ns
        out["single_stream_expected_latency_ns"] = ns
        out["multi_stream_expected_latency_ns"] = ns
    pairs = {
        "min_duration_ms": options.min_duration_ms,
        "max_duration_ms": options.max_duration_ms,
        "min_query_count": options.min_query_count,
        "max_query_count": options.max_query_count,
        "performance_sample_count_override": options.performance_sample_count,
        "multi_stream_samples_per_query": options.samples_per_query,
    }
    out.update({k: v for k, v in pairs.items() if v is not None})
    return out


def overrides(profile: Profile, options: LoadgenOptions) -> dict[str, float | int]:
    """Everything set on top of the conf files; any entry departs from the rules."""
    return {**profile.settings, **flag_overrides(options)}


def user_conf_path(options: LoadgenOptions, results_dir: Path) -> Path:
    """The user.conf to read: the given one, else an empty one written into the results
    (the official layout keeps the user.conf of every result)."""
    if options.user_conf is not None:
        return options.user_conf
    path = results_dir / "user.conf"
    path.write_text(NO_USER_CONF)
    return path


def build(model: str, profile: Profile, options: LoadgenOptions, user_conf: Path, mode: str) -> Any:
    """One TestSettings for ``model`` (mlperf.conf's name: resnet50, bert, ...)."""
    settings = lg.TestSettings()
    if options.mlperf_conf is not None:
        _from_config(settings, options.mlperf_conf, model, options.scenario, MLPERF_CONF)
    _from_config(settings, user_conf, model, options.scenario, USER_CONF)
    settings.scenario = getattr(lg.TestScenario, options.scenario)
    set_mode(settings, mode)
    for key, value in overrides(profile, options).items():
        setattr(settings, key, value)
    return settings


def set_mode(settings: Any, mode: str) -> None:
    settings.mode = getattr(lg.TestMode, MODES[mode])


def _from_config(settings: Any, path: Path, model: str, scenario: str, kind: int) -> None:
    if settings.FromConfig(str(path), model, scenario, kind) != 0:
        raise ValueError(f"LoadGen could not read {path}")


def performance_count(settings: Any, total: int) -> int:
    """Samples LoadGen loads for performance runs: the conf's or profile's count (1024 for
    ResNet-50, 10833 for BERT), never more than the dataset holds."""
    wanted = int(settings.performance_sample_count_override) or total
    return min(wanted, total)


def log_settings(outdir: Path) -> Any:
    output = lg.LogOutputSettings()
    output.outdir = str(outdir)
    output.copy_summary_to_stdout = False
    log = lg.LogSettings()
    log.log_output = output
    log.enable_trace = False
    return log
