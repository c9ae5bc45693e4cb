"""The value an unsatisfiable solve returns: a derivation of steps, for people and scripts.

Built by `solvers.explain`; rendered by its callers (the cmpkg CLI indents `lines()` under
its error and puts `to_json()` in `--json` output). Pure data: no solving here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a derivation.

    `kind` says what the step states: "request" (what was asked), "needs" (a candidate group's
    requirement), "missing" (why nothing meets a requirement), "fact" (what the target has
    for a `__` fact: `value` and its `source`), "conflict", "constraint" or "conclusion".
    `package` is the name the step is about and `constraint` the requirement text;
    `depth` is its indentation in the derivation (a step explains the one above it).
    """

    kind: str
    text: str
    depth: int = 0
    package: str | None = None
    constraint: str | None = None
    value: str | None = None
    source: str | None = None

    def to_json(self) -> dict[str, Any]:
        fields = {"package": self.package, "constraint": self.constraint}
        fields |= {"value": self.value, "source": self.source}
        base = {"kind": self.kind, "text": self.text, "depth": self.depth}
        return base | {k: v for k, v in fields.items() if v is not None}


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a problem is unsatisfiable, as a derivation of steps (PubGrub/uv style).

    `str()` is the one-line form (steps joined by "; "), used in problem-file replays and
    logs; `lines()` is the indented form for people; `to_json()` the structured one.
    """

    steps: tuple[Step, ...]

    def __str__(self) -> str:
        return "; ".join(step.text for step in self.steps)

    def lines(self, indent: str = "  ") -> list[str]:
        return [indent * step.depth + step.text for step in self.steps]

    def to_json(self) -> list[dict[str, Any]]:
        return [step.to_json() for step in self.steps]
