"""The shared harness's figures per scenario (issue 19: SingleStream's samples_per_second
came out at 8x the query rate) and the sample shapes it accepts (3D-UNet's volumes)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
HARNESS = ROOT / "index" / "libraries" / "mlperf-harness"
DATA = Path(__file__).parent / "data"
MULTISTREAM = """Scenario : MultiStream
Mode     : PerformanceOnly
99.0th percentile latency (ns) : 1500000000
Result is : VALID
Mean latency (ns)               : 1000000000
samples_per_query : 4
"""


@pytest.fixture(scope="module")
def harness() -> Iterator[None]:
    sys.path.insert(0, str(HARNESS))
    yield
    sys.path.remove(str(HARNESS))


def test_singlestream_rate_is_the_query_rate_whatever_samples_per_query_says(
    harness: None, tmp_path: Path
) -> None:
    from mlperf_harness.report import performance_section
    from mlperf_harness.summary import parse_summary

    summary = parse_summary((DATA / "summary_singlestream.txt").read_text())
    # TestSettings' multi_stream_samples_per_query (8) is what the run loop hands over
    section = performance_section(summary, 8, tmp_path)
    assert section["samples_per_second"] == pytest.approx(14.79)  # QPS w/ loadgen overhead
    assert section["metric"] == "90.0th percentile latency (ns)"


def test_multistream_rate_uses_the_summarys_own_samples_per_query(
    harness: None, tmp_path: Path
) -> None:
    from mlperf_harness.report import performance_section
    from mlperf_harness.summary import parse_summary

    section = performance_section(parse_summary(MULTISTREAM), 8, tmp_path)
    assert section["samples_per_second"] == pytest.approx(4.0)  # 4 samples a second
    no_line = MULTISTREAM.replace("samples_per_query : 4\n", "")
    assert performance_section(parse_summary(no_line), 8, tmp_path)[
        "samples_per_second"
    ] == pytest.approx(8.0)


def test_offline_rate_is_loadgens_samples_per_second(harness: None, tmp_path: Path) -> None:
    from mlperf_harness.report import performance_section
    from mlperf_harness.summary import parse_summary

    summary = parse_summary((DATA / "summary_offline.txt").read_text())
    assert performance_section(summary, 8, tmp_path)["samples_per_second"] == 12.6762


def test_samples_of_different_shapes_load_as_one_object_array(harness: None) -> None:
    np = pytest.importorskip("numpy")
    pytest.importorskip("mlperf_loadgen")
    from mlperf_harness.sut import stack

    same = stack([np.zeros((2, 3)), np.ones((2, 3))])
    assert same.shape == (2, 2, 3) and same.dtype.name == "float64"
    rows = [np.zeros((1, 4, 4, 4)), np.ones((1, 4, 8, 4))]
    ragged = stack(rows)
    assert ragged.shape == (2,) and ragged.dtype == object
    assert ragged[1].shape == (1, 4, 8, 4)
    assert np.take(ragged, np.array([1]), axis=0)[0] is rows[1]


def test_smoke_profile_sets_the_streams_expected_latency_from_the_rate(harness: None) -> None:
    from mlperf_harness.profiles import smoke

    settings = smoke(8, "SingleStream", rate=4.0).settings
    assert settings["single_stream_expected_latency_ns"] == 250_000_000
    assert settings["multi_stream_expected_latency_ns"] == 2_000_000_000
