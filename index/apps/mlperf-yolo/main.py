"""Run the app as a script: ``python index/apps/mlperf-yolo/main.py --help``.

Puts this directory on ``sys.path``, and the shared harness and the COCO detection library
beside it in the source tree when no environment provides them (cmpkg's environments put
both on PYTHONPATH).
"""

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
for module, folder in (("mlperf_harness", "mlperf-harness"), ("coco_detection", "coco-detection")):
    if importlib.util.find_spec(module) is None:
        sys.path.append(str(HERE.parents[1] / "libraries" / folder))

from mlperf_yolo.cli import main  # noqa: E402 (needs the path above)

if __name__ == "__main__":
    sys.exit(main())
