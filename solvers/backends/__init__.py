"""The backend protocol: one method that turns a Catalog into chosen candidate ids or None.

Backends know nothing of explanations or verification; `solvers.solve` wraps them with both.
"""

from __future__ import annotations

import time
from typing import Protocol

from solvers.catalog import Catalog


class SolveTimeoutError(Exception):
    """The time bound given to `solve` ran out before an answer was certain."""


class BackendGaveUpError(Exception):
    """An incomplete backend cannot decide this problem (too deep, or a feature it cannot
    encode soundly); a complete backend must answer instead. Never shown to a user."""


class Deadline:
    """A monotonic time bound; `check` raises SolveTimeoutError once it has passed. O(1)."""

    def __init__(self, seconds: float | None) -> None:
        self.at = None if seconds is None else time.monotonic() + seconds

    def left(self) -> float | None:
        return None if self.at is None else max(0.0, self.at - time.monotonic())

    def check(self) -> None:
        if self.at is not None and time.monotonic() > self.at:
            raise SolveTimeoutError("the time bound ran out")


class Backend(Protocol):
    """A solver. `name` is what `--backend` selects and what `Result.backend` reports."""

    name: str
    complete: bool  # True: "None" is a proof of unsatisfiability
    optimal: bool  # True: answers follow the documented preference order exactly

    def solve(self, catalog: Catalog, deadline: Deadline) -> list[int] | None:
        """Chosen candidate ids, or None if (for complete backends: provably) unsatisfiable.

        May raise SolveTimeoutError, or BackendGaveUpError when incomplete.
        """
        ...
