"""Shared helpers for the solvers test suite: case files and pin comparison."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from packaging.version import Version

from solvers import Candidate

HERE = Path(__file__).parent
CONFORMANCE = sorted((HERE / "conformance").glob("*/*.json"))
SCENARIOS = sorted((HERE / "scenarios").glob("*.json"))
BACKENDS = ["auto", "libsolv", "clingo", "resolvelib"]
OPTIMAL = ["auto", "clingo"]  # answers follow solvers.PREFERENCE_ORDER exactly


def read(path: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return value


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


def same_pins(got: Mapping[str, Candidate], expected: Mapping[str, Any]) -> bool:
    """Expected pins are "VERSION" or {"version", "variant"}; versions compare by PEP 440."""
    if set(got) != set(expected):
        return False
    for name, want in expected.items():
        version, variant = (
            (want, None) if isinstance(want, str) else (want["version"], want["variant"])
        )
        if Version(got[name].version) != Version(version):
            return False
        if variant is not None and dict(got[name].variant) != variant:
            return False
    return True
