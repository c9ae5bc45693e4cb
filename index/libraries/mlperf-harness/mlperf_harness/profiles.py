"""Run profiles: how long a LoadGen run is (pure).

``smoke`` is a short, honest LoadGen run of a few hundred samples that shows the whole
stack works in a minute or two; its results are never a valid submission-length run and
say so. ``full`` changes nothing: the round's mlperf.conf (built into LoadGen, or
``--mlperf-conf``), then user.conf, then explicit flags, which is what a submission needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# MultiStream queries carry 8 samples each (the rules' samples_per_query).
MULTISTREAM_SAMPLES = 8
SMOKE_SECONDS = 2
SMOKE_MAX_SECONDS = 60
SMOKE_LABEL = "SMOKE RUN: short settings, not a valid submission-length run"


@dataclass(frozen=True, slots=True)
class Profile:
    name: str
    description: str
    #: TestSettings attributes set after mlperf.conf and user.conf (flags still win).
    settings: dict[str, float | int] = field(default_factory=dict)
    #: samples the QSL holds (None: the whole dataset, as the rules require).
    count: int | None = None
    #: the modes run when no --mode is given.
    modes: tuple[str, ...] = ("performance",)
    submission_length: bool = True

    @property
    def label(self) -> str | None:
        return None if self.submission_length else SMOKE_LABEL


def smoke(count: int, scenario: str, rate: float | None = None) -> Profile:
    """A short run over the first ``count`` samples: a performance run of at least
    ``count`` samples and ``SMOKE_SECONDS`` (so LoadGen's duration check can pass), then
    an accuracy run over the same samples. ``rate`` is the samples/s measured just before
    (None: not measured yet); Offline's expected QPS, Server's target QPS and the streams'
    expected latencies follow it, so the run lasts seconds, not the rules' ten minutes."""
    rate = rate or 1.0
    queries = max(1, count // MULTISTREAM_SAMPLES) if scenario == "MultiStream" else count
    return Profile(
        name="smoke",
        description=f"the first {count} samples",
        settings={
            "min_duration_ms": SMOKE_SECONDS * 1000,
            "max_duration_ms": SMOKE_MAX_SECONDS * 1000,
            "min_query_count": queries,
            "performance_sample_count_override": count,
            # twice the measured rate: Offline's one query must outlast min_duration even
            # when the short calibration underestimates the rate
            "offline_expected_qps": round(2 * rate, 3),
            "server_target_qps": round(rate / 2, 3),
            # the measured latency: LoadGen sizes an equal-issue run (3D-UNet's
            # sample_concatenate_permutation) from it, and the conf's guess can be far off
            "single_stream_expected_latency_ns": round(1e9 / rate),
            "multi_stream_expected_latency_ns": round(MULTISTREAM_SAMPLES * 1e9 / rate),
        },
        count=count,
        modes=("performance", "accuracy"),
        submission_length=False,
    )


FULL = Profile(
    name="full",
    description="the round's official settings (mlperf.conf, then user.conf)",
)

NAMES = ("smoke", "full")


def named(name: str, smoke_count: int, scenario: str, rate: float | None = None) -> Profile:
    if name == "smoke":
        return smoke(smoke_count, scenario, rate)
    if name == "full":
        return FULL
    raise ValueError(f"unknown profile {name!r}; profiles: {', '.join(NAMES)}")
