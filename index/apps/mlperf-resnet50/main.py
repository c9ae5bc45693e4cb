"""Run the app as a script: ``python index/apps/mlperf-resnet50/main.py --help``.

Puts this directory on ``sys.path`` so that ``mlperf_resnet50`` is found without
installing it, and the shared harness beside it in the source tree when no environment
provides it (cmpkg's environments put ``mlperf_harness`` on PYTHONPATH).
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if importlib.util.find_spec("mlperf_harness") is None:
    sys.path.insert(1, str(HERE.parents[1] / "libraries" / "mlperf-harness"))

from mlperf_resnet50.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
