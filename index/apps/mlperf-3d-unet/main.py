"""Run the app as a script: ``python index/apps/mlperf-3d-unet/main.py --help``.

Puts this directory on ``sys.path``, and the shared harness and the KiTS19 library beside
it in the source tree when no environment provides them (cmpkg's environments put both on
PYTHONPATH).
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
for module, folder in (("mlperf_harness", "mlperf-harness"), ("kits19_seg", "kits19-seg")):
    if importlib.util.find_spec(module) is None:
        sys.path.append(str(HERE.parents[1] / "libraries" / folder))

from mlperf_3d_unet.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
