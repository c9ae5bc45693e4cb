"""`python -m solvers solve FILE`: see solvers.cli."""

from __future__ import annotations

import sys

from solvers.cli import main

sys.exit(main())
