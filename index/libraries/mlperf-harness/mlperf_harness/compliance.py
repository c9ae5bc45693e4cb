"""Compliance tests: the ``audit.config`` LoadGen reads for TEST01, TEST04 and TEST06.

LoadGen reads the audit config from the path given to ``StartTestWithLogSettings``; the
harness writes it into the compliance run's directory and passes that path, so the file
that steered a run is kept with its logs. The keys are LoadGen's audit settings as the
compliance tests of mlcommons/inference (``compliance/TEST01``, ``compliance/TEST04``) set
them: TEST01 logs a sample of responses in performance mode (checked against an accuracy
run), TEST04 issues the same sample again and again (caching would show). The comparison
scripts of TEST01 and TEST04 (``run_verification.py``) are not part of this harness;
TEST06 (LLMs: first token, EOS, token count) is, in ``test06.py``, and runs after its run.
"""

from __future__ import annotations

from pathlib import Path

TESTS = ("TEST01", "TEST04", "TEST06")
# TEST01's seed and sampling target as compliance/TEST01's audit.config sets them
# (the sampling target differs per benchmark in some rounds; 64 is the current file's).
TEST01_SEED = 720381539243781796
TEST01_SAMPLING_TARGET = 64
HEADER = "# written by mlperf_harness for {test}: key = value, keys model.scenario.setting\n"


def audit_config(test: str) -> str:
    if test == "TEST01":
        body = (
            "*.*.mode = 2\n"
            f"*.*.accuracy_log_rng_seed = {TEST01_SEED}\n"
            f"*.*.accuracy_log_sampling_target = {TEST01_SAMPLING_TARGET}\n"
        )
    elif test == "TEST06":
        # compliance/TEST06/audit.config: a performance run logging 100 samples, no equal
        # issue mode (sample_concatenate_permutation = 0).
        body = (
            "*.*.mode = 2\n"
            f"*.*.accuracy_log_rng_seed = {TEST01_SEED}\n"
            "*.*.accuracy_log_sampling_target = 100\n"
            "*.*.min_query_count = 100\n"
            "*.*.min_duration = 0\n"
            "*.*.sample_concatenate_permutation = 0\n"
        )
    elif test == "TEST04":
        body = "".join(
            f"*.{s}.{key} = {value}\n"
            for s in ("Offline", "SingleStream", "MultiStream", "Server")
            for key, value in (
                ("mode", 2),
                ("performance_issue_unique", 0),
                ("performance_issue_same", 1),
                ("performance_issue_same_index", 3),
            )
        )
    else:
        raise ValueError(f"unknown compliance test {test!r}; tests: {', '.join(TESTS)}")
    return HEADER.format(test=test) + body


def place(test: str | None, run_dir: Path) -> Path:
    """The audit.config path for LoadGen: written for a compliance test, else a path that
    does not exist (LoadGen then applies no audit settings)."""
    if test is None:
        return run_dir / "no-audit.config"
    path = run_dir / test / "audit.config"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(audit_config(test))
    return path
