"""The import layering of cmpkg (docs/architecture.md): cli -> commands -> core, and a pure
middle that imports no network, subprocess or store module, even lazily or transitively."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "cmpkg"

#: Modules that do I/O the pure middle must never reach.
IO_MODULES = (
    "subprocess",
    "socket",
    "http",
    "urllib",
    "requests",
    "cmpkg.fetch",
    "cmpkg.store.store",
    "cmpkg.store.locks",
    "cmpkg.store.manifest",
    "cmpkg.pyenv",
    "cmpkg.wheels",
    "cmpkg.mirror",
    "cmpkg.probe",  # probing is I/O: its results arrive as values
)
PURE = ("cmpkg.resolve", "cmpkg.resolution", "cmpkg.plan", "cmpkg.lock.model", "cmpkg.lock.render")
#: CLI modules whose handlers are parse -> one `cmpkg.commands` call -> render: besides
#: `cmpkg.commands` they may import only what parsing and rendering need.
THIN_CLI = ("cmpkg.cli.install_cmds", "cmpkg.cli.project_cmds", "cmpkg.cli.env_cmds")
CLI_MAY_USE = ("cmpkg.commands", "cmpkg.cli", "cmpkg.console", "cmpkg.errors", "cmpkg.index.model")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


@cache
def imports(module: str) -> frozenset[str]:
    """Every module `module` imports, at the top or inside a function (TYPE_CHECKING-only
    imports excluded: they never run)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    skipped = {
        id(n)
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)
        for n in ast.walk(node)
    }
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found |= {f"{node.module}.{a.name}" for a in node.names} & MODULES.keys()
    return frozenset(found)


def closure(module: str) -> set[str]:
    """`module`'s imports, followed through every cmpkg module (and its parent packages)."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        if name in MODULES:
            todo += imports(name)
            parts = name.split(".")  # importing a.b.c runs a/__init__ and a/b/__init__
            todo += [".".join(parts[:i]) for i in range(1, len(parts))]
    return seen - {module}


def _under(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def test_nothing_below_the_cli_imports_it() -> None:
    for module in MODULES:
        if not _under(module, ("cmpkg.cli",)) and module != "cmpkg.__main__":
            bad = sorted(i for i in imports(module) if _under(i, ("cmpkg.cli",)))
            assert not bad, f"{module} imports {bad}"


def test_commands_are_the_only_workflow_layer_the_thin_cli_calls() -> None:
    for module in THIN_CLI:
        direct = {i for i in imports(module) if i.startswith("cmpkg.")}
        bad = sorted(i for i in direct if not _under(i, CLI_MAY_USE))
        assert not bad, f"{module} imports core modules directly: {bad}"
        assert any(_under(i, ("cmpkg.commands",)) for i in direct), module


def test_the_pure_middle_reaches_no_io_module() -> None:
    for module in PURE:
        reached = closure(module)
        bad = sorted(i for i in reached if _under(i, IO_MODULES))
        assert not bad, f"{module} reaches {bad}"


def test_the_layering_test_sees_lazy_imports() -> None:
    """The checker itself must catch an import hidden inside a function."""
    assert "cmpkg.commands.install" in imports("cmpkg.cli.install_cmds")
    assert "cmpkg.commands.run" in imports("cmpkg.cli.env_cmds")
    assert "solvers" in closure("cmpkg.resolve")


def test_solvers_is_not_an_io_module_either() -> None:
    """resolve() calls solvers: solvers must not run subprocesses or open sockets."""
    solver_files = sorted((ROOT / "solvers").rglob("*.py"))
    for path in solver_files:
        if path.name == "cli.py" or path.name == "__main__.py":
            continue  # the problem-file command line reads files; resolve() never calls it
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        names |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        assert not {n for n in names if _under(n, ("subprocess", "socket", "requests"))}, path


def test_importing_the_middle_loads_no_io_module_at_run_time() -> None:
    """The same rule, observed: what a real import of the pure modules loads."""
    import subprocess
    import sys

    code = (
        "import sys, cmpkg.plan, cmpkg.resolve, cmpkg.lock.model, cmpkg.lock.render;"
        "print(' '.join(sorted(sys.modules)))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout.split()
    banned = ("subprocess", "socket", "requests", "cmpkg.fetch", "cmpkg.store.store")
    assert not [m for m in loaded if _under(m, banned)]


def _handlers(module: str) -> dict[str, int]:
    """Each handler a module registers (`set_defaults(handler=...)`), with its length."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    names = {
        k.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "set_defaults"
        for k in node.keywords
        if k.arg == "handler" and isinstance(k.value, ast.Name)
    }
    return {
        n.name: (n.end_lineno or n.lineno) - n.lineno + 1
        for n in tree.body
        if isinstance(n, ast.FunctionDef) and n.name in names
    }


def test_every_thin_handler_reads_in_under_20_lines() -> None:
    handlers = {f"{m}.{n}": size for m in THIN_CLI for n, size in _handlers(m).items()}
    handlers["cmpkg.cli.mirror_cmds._create"] = _handlers("cmpkg.cli.mirror_cmds")["_create"]
    assert len(handlers) >= 11
    assert {f"cmpkg.cli.env_cmds.{n}" for n in ("_run", "_env", "_shell")} <= handlers.keys()
    assert {name: size for name, size in handlers.items() if size >= 20} == {}
