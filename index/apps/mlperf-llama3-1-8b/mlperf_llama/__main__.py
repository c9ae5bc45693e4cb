"""``python -m mlperf_llama``: run the benchmark."""

import sys

from mlperf_llama.cli import main

sys.exit(main())
