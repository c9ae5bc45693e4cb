"""`python -m solvers` imports a backend only when it is used (clingo and resolvelib are most
of a small solve's start-up, and most solves never need them), and argparse only when the
command line is not plain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from .test_auto_shortcut import GREEDY_TRAP

HEAVY = ["solv", "clingo", "resolvelib", "solvers.explain", "argparse"]
PROBE = """
import sys
from solvers.cli import main
before = {m for m in HEAVY if m in sys.modules}
code = main(sys.argv[1:])
after = sorted(m for m in HEAVY if m in sys.modules)
print(json.dumps({"before": sorted(before), "after": after, "code": code}))
"""


def _modules(tmp_path: Path, problem: dict[str, object], *args: str) -> dict[str, object]:
    path = tmp_path / "p.json"
    path.write_text(json.dumps(problem), encoding="utf-8")
    script = f"import json\nHEAVY = {HEAVY!r}\n{PROBE}"
    out = subprocess.run(
        [sys.executable, "-c", script, "solve", str(path), "--json", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    value: dict[str, object] = json.loads(out.stdout.splitlines()[-1])
    return value


@pytest.mark.slow
def test_only_the_backends_used_are_imported(tmp_path: Path) -> None:
    first_pins = {**GREEDY_TRAP, "packages": {**GREEDY_TRAP["packages"], "b": [{"version": "1"}]}}
    proved = _modules(tmp_path, first_pins)  # auto: the first choice, proved optimal
    assert proved == {"before": [], "after": [], "code": 0}
    trap = _modules(tmp_path, GREEDY_TRAP)  # auto: clingo with `a` pinned, no libsolv
    assert trap == {"before": [], "after": ["clingo"], "code": 0}
    packages = {**GREEDY_TRAP["packages"]}  # `a 2` needs a missing `x`; two names: no pin step
    packages["a"] = [{"version": "2", "depends": [["x", ""]]}, *packages["a"]]
    fallback = {**GREEDY_TRAP, "packages": packages, "requests": [["a", ""], ["c", ""]]}
    assert _modules(tmp_path, fallback) == {"before": [], "after": ["clingo", "solv"], "code": 0}
    unsat = {**GREEDY_TRAP, "requests": [["a", ">=2"]]}
    assert _modules(tmp_path, unsat, "--backend", "libsolv") == {
        "before": [],
        "after": ["solv", "solvers.explain"],
        "code": 1,
    }
