"""`python -m cmpkg`: the same entry point as the `cmpkg` console command."""

import sys

from cmpkg.cli import main

sys.exit(main())
