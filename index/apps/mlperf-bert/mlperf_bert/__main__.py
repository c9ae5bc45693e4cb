"""``python -m mlperf_bert``: run the benchmark."""

import sys

from mlperf_bert.cli import main

sys.exit(main())
