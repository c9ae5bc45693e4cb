"""``python -m mlperf_yolo``: run the benchmark."""

import sys

from mlperf_yolo.cli import main

sys.exit(main())
