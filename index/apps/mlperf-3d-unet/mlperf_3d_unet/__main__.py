"""``python -m mlperf_3d_unet``: run the benchmark."""

import sys

from mlperf_3d_unet.cli import main

sys.exit(main())
