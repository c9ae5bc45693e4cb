"""``python -m mlperf_resnet50``: run the harness."""

import sys

from mlperf_resnet50.cli import main

sys.exit(main())
