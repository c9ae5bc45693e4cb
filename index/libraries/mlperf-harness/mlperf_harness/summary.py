"""Parse LoadGen's ``mlperf_log_summary.txt`` into values (pure; standard library only).

The summary is ``key : value`` lines under banner lines of ``=``; keys repeat across
LoadGen versions with small spelling changes, so lookups go through ``first_of``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Each scenario's primary metric, as LoadGen words it, best first.
METRIC_KEYS = {
    "Offline": ("Samples per second",),
    "Server": ("Completed samples per second", "Scheduled samples per second"),
    "SingleStream": ("90.0th percentile latency (ns)", "90th percentile latency (ns)"),
    "MultiStream": ("99.0th percentile latency (ns)", "99th percentile latency (ns)"),
}
EXTRA_KEYS = (
    "Scheduled samples per second",
    "QPS w/ loadgen overhead",
    "QPS w/o loadgen overhead",
)
LATENCY_KEYS = (
    "Min latency (ns)",
    "Max latency (ns)",
    "Mean latency (ns)",
    "50.00 percentile latency (ns)",
    "90.00 percentile latency (ns)",
    "95.00 percentile latency (ns)",
    "97.00 percentile latency (ns)",
    "99.00 percentile latency (ns)",
    "99.90 percentile latency (ns)",
)

# Token benchmarks (LLMs, ``use_token_latencies``): throughput, then the percentiles of the
# time to first token and of the time per output token, as LoadGen 6.0 words them.
TOKEN_RATE_KEYS = ("Completed tokens per second", "Tokens per second")
PERCENTILE_NAMES = {
    "Min": "min",
    "Mean": "mean",
    "50.00 percentile": "p50",
    "90.00 percentile": "p90",
    "95.00 percentile": "p95",
    "97.00 percentile": "p97",
    "99.00 percentile": "p99",
    "99.90 percentile": "p99.9",
    "Max": "max",
}
FIRST_TOKEN = ("First Token latency (ns)", "first token latency (ns)")
PER_TOKEN = ("Time per Output Token (ns)", "time to output token (ns)")


@dataclass(frozen=True, slots=True)
class Summary:
    """The values of one summary file."""

    fields: dict[str, str] = field(default_factory=dict)

    def first_of(self, keys: tuple[str, ...]) -> str | None:
        for key in keys:
            if key in self.fields:
                return self.fields[key]
        return None

    @property
    def scenario(self) -> str | None:
        return self.fields.get("Scenario")

    @property
    def mode(self) -> str | None:
        return self.fields.get("Mode")

    @property
    def valid(self) -> bool | None:
        result = self.fields.get("Result is")
        return None if result is None else result.upper() == "VALID"

    def metric(self) -> tuple[str, float] | None:
        """(name, value) of the scenario's primary metric, if present."""
        for key in METRIC_KEYS.get(self.scenario or "", ()):
            value = _number(self.fields.get(key))
            if value is not None:
                return key, value
        return None

    def extras(self) -> dict[str, float]:
        """Secondary throughput figures present in this summary."""
        found = {key: _number(self.fields.get(key)) for key in EXTRA_KEYS}
        return {key: value for key, value in found.items() if value is not None}

    def latencies_ns(self) -> dict[str, float]:
        out = {}
        for key in LATENCY_KEYS:
            value = _number(self.fields.get(key))
            if value is not None:
                out[key.replace(" (ns)", "")] = value
        return out

    def tokens(self) -> dict[str, object]:
        """Token throughput, TTFT and TPOT percentiles (ns); {} for other benchmarks."""
        out: dict[str, object] = {}
        rate = _number(self.first_of(TOKEN_RATE_KEYS))
        if rate is not None:
            out["tokens_per_second"] = rate
        for name, suffixes in (("ttft_ns", FIRST_TOKEN), ("tpot_ns", PER_TOKEN)):
            found = self._percentiles(suffixes)
            if found:
                out[name] = found
        single = _number(self.fields.get("90.0th first token percentile latency (ns)"))
        if single is not None:
            out["ttft_p90_ns"] = single
        return out

    def _percentiles(self, suffixes: tuple[str, str]) -> dict[str, float]:
        upper, lower = suffixes
        out = {}
        for prefix, short in PERCENTILE_NAMES.items():
            suffix = upper if prefix in ("Min", "Mean", "Max") else lower
            value = _number(self.fields.get(f"{prefix} {suffix}"))
            if value is not None:
                out[short] = value
        return out


def _number(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def parse_summary(text: str) -> Summary:
    """Every ``key : value`` line; the first occurrence of a key wins."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if ":" not in line or line.startswith("="):
            continue
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key and key not in fields:
            fields[key] = value
    return Summary(fields)


def results_block(text: str) -> str:
    """LoadGen's own "MLPerf Results Summary" block (banner to the next banner), as it
    printed it: what a reader compares with other MLPerf results."""
    lines = text.splitlines()
    out: list[str] = []
    banners = 0
    for line in lines:
        if line.startswith("="):
            banners += 1
            if banners == 3 and out:  # the banner that opens "Additional Stats"
                break
            continue
        if banners >= 2:
            out.append(line)
    return "\n".join(line for line in out if line.strip())
