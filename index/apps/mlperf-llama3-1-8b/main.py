"""Run the app as a script: ``python index/apps/mlperf-llama3-1-8b/main.py --help``.

Puts this directory on ``sys.path``, and the shared harness beside it in the source tree when
no environment provides it (cmpkg's environments put it on PYTHONPATH).
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
if importlib.util.find_spec("mlperf_harness") is None:
    sys.path.append(str(HERE.parents[1] / "libraries" / "mlperf-harness"))

from mlperf_llama.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
