"""Where a run's files go: the official MLPerf results layout (pure paths).

One invocation writes one directory::

    <run>/result.json                       the whole record (report.py)
    <run>/user.conf                         the user.conf LoadGen read
    <run>/performance/run_1/mlperf_log_*    a performance run
    <run>/accuracy/mlperf_log_accuracy.json, accuracy.txt, mlperf_log_*
    <run>/TEST01/performance/run_1/...      a compliance run (with its audit.config)

which is the ``results/<system>/<benchmark>/<scenario>/`` (and ``compliance/...``) level of
a submission. Without ``--results-dir`` a run goes to
``<root>/<benchmark>/<scenario>/<UTC stamp>`` where the root is ``$CMPKG_RESULTS_DIR``
(set by ``cmpkg run``: the project's ``results/`` or ``$CMPKG_HOME/results``), else
``./results``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

RESULTS_ENV = "CMPKG_RESULTS_DIR"


def default_run_dir(benchmark: str, scenario: str, now: float | None = None) -> Path:
    root = Path(os.environ.get(RESULTS_ENV) or "results")
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    return root / benchmark / scenario / stamp


def mode_dir(run: Path, mode: str, compliance: str | None = None) -> Path:
    """Where LoadGen writes the logs of one mode (and compliance test)."""
    base = run / compliance if compliance else run
    return base / "accuracy" if mode == "accuracy" else base / "performance" / "run_1"
