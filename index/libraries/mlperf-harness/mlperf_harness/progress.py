"""Progress of a LoadGen run on stderr: samples completed, rate and ETA (tqdm).

Drawn only when stderr is a terminal (tqdm's ``disable=None``) and never on stdout, so
``--json``-style consumers and logs stay clean; ``CMPKG_NO_PROGRESS=1`` turns it off.
tqdm draws no colour, so NO_COLOR needs nothing here.
"""

from __future__ import annotations

import os
import sys
from typing import Any

NO_PROGRESS = "CMPKG_NO_PROGRESS"


class Progress:
    """A counter the SUT's worker thread advances; tqdm's own lock guards it."""

    def __init__(self, label: str, total: int | None) -> None:
        from tqdm import tqdm

        disabled = None if os.environ.get(NO_PROGRESS) != "1" else True
        self.bar: Any = tqdm(
            total=total,
            desc=label,
            unit="sample",
            file=sys.stderr,
            disable=disabled,
            leave=False,
            dynamic_ncols=True,
        )

    def advance(self, n: int) -> None:
        self.bar.update(n)

    def close(self) -> None:
        self.bar.close()
