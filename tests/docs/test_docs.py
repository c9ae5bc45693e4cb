"""The docs stay true: every command and every environment variable is documented, and the
README's set-up and test commands are the ones CI runs."""

from __future__ import annotations

import re
from pathlib import Path

from cmpkg.cli import build_parser
from cmpkg.envvars import EXPORTED, VARIABLES

ROOT = Path(__file__).parents[2]
CLI_DOC = (ROOT / "docs" / "cli.md").read_text()


def _commands() -> list[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return sorted(sub.choices)  # type: ignore[arg-type]


def test_every_command_is_in_cli_doc_and_readme() -> None:
    readme = (ROOT / "README.md").read_text()
    for command in _commands():
        assert f"cmpkg {command}" in CLI_DOC, command
        assert re.search(rf"cmpkg {command}\b", readme), command


def test_every_environment_variable_is_documented_with_its_meaning() -> None:
    for variable in (*VARIABLES.values(), *EXPORTED.values()):
        assert f"| `{variable.name}` | {variable.meaning} |" in CLI_DOC


def test_readme_commands_are_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "pip install -e '.[dev]'" in readme and "pip install --quiet -e '.[dev]'" in ci
    assert "sh tools/check.sh" in readme and "sh tools/check.sh" in ci


def test_every_doc_linked_from_the_readme_exists() -> None:
    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (ROOT / link).is_file(), link


def test_the_command_map_names_the_module_that_registers_each_command() -> None:
    import argparse
    import importlib

    from cmpkg.cli import COMMAND_MODULES, COMMANDS

    registered = {}
    for module in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(module).register(sub)
        registered |= dict.fromkeys(sub.choices, module)
    assert registered == COMMANDS


def test_every_python_package_is_listed_for_the_wheel() -> None:
    import tomllib

    listed = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    found = {
        ".".join(p.parent.relative_to(ROOT).parts)
        for top in ("cmpkg", "solvers")
        for p in (ROOT / top).rglob("__init__.py")
    }
    assert listed == found | {"cmpkg_index"}
