"""solvers/ is a library of its own: it must never import cmpkg."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SOLVERS = Path(__file__).resolve().parents[2] / "solvers"


def test_importing_solvers_loads_no_cmpkg_module() -> None:
    code = (
        "import sys, solvers, solvers.cli, solvers.explain;"
        "from solvers.backends import clingo_backend, libsolv_backend, resolvelib_backend;"
        "print([m for m in sys.modules if m == 'cmpkg' or m.startswith('cmpkg.')])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def _imported(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_no_source_file_imports_cmpkg() -> None:
    files = sorted(SOLVERS.rglob("*.py"))
    assert files
    for path in files:
        for name in _imported(ast.parse(path.read_text(encoding="utf-8"))):
            assert name.split(".")[0] != "cmpkg", f"{path} imports {name}"
