"""MLPerf submissions: the `[submission]` manifest, the runs, the official tree, its checks.

The round's rules are data (`mlperf_harness/rules.json` in the shipped index, `rules`);
nothing here hard-codes a benchmark, a scenario list or a system field (docs/submission.md).
"""
