"""Run the harness as a script: ``python index/apps/mlperf-resnet50/main.py --help``.

Puts this directory on ``sys.path`` so that the ``mlperf_resnet50`` package is found
without installing it; ``python -m mlperf_resnet50`` with this directory on PYTHONPATH is
the same program.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mlperf_resnet50.cli import main

if __name__ == "__main__":
    sys.exit(main())
