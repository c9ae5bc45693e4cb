"""`cmpkg run | env | shell`: parse, call `cmpkg.commands.run`, render.

Everything is imported inside the handler that needs it, so `cmpkg run` adds tens of
milliseconds, not seconds, to an app's start.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg.cli.common import home

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any) -> None:
    import argparse

    run = subparsers.add_parser("run", help="run an installed app inside its environment")
    run.add_argument("name", help="an app, or an environment (its first app)")
    run.add_argument("--env", help="the environment that holds the app (default: the one)")
    run.add_argument("args", nargs=argparse.REMAINDER, help="arguments for the app (after --)")
    run.set_defaults(handler=_run)

    env = subparsers.add_parser("env", help="list, show, export or remove named environments")
    env.add_argument("words", nargs="*", metavar="list | rm NAME | NAME")
    env.add_argument("--export", choices=("sh", "fish", "json"), default="sh")
    env.add_argument("--json", action="store_true", help="print one JSON document")
    env.set_defaults(handler=_env)

    shell = subparsers.add_parser("shell", help="start $SHELL inside an environment")
    shell.add_argument("name", metavar="NAME")
    shell.set_defaults(handler=_shell)


def _run(args: argparse.Namespace) -> int:
    return run(args.name, args.args, args.env)  # argparse took the `--` after NAME


def run_app(name: str, words: list[str]) -> int:
    """`cmpkg run NAME [--] ARGS`, dispatched without a parser (`cmpkg.cli._direct_run`):
    one `--` right after NAME ends cmpkg's words, as argparse reads it."""
    return run(name, words[1:] if words[:1] == ["--"] else words)


def run(name: str, args: list[str], env: str | None = None) -> int:
    """Run app (or environment) `name` with `args`; a run missing from the results is a
    warning."""
    from cmpkg.commands.run import RunInput
    from cmpkg.commands.run import run as run_in_env

    given = RunInput(home(), name, tuple(args), os.environ, Path.cwd(), env)
    result = run_in_env(given)
    if result.not_recorded is not None:
        from cmpkg import console

        message = f"the run was not recorded in the results database: {result.not_recorded}"
        console.message("warning", message)
    return result.code


def _env(args: argparse.Namespace) -> int:
    from cmpkg.errors import UsageError

    words = args.words
    if not words or words == ["list"]:
        return _env_list(args.json)
    if words[0] == "rm" and len(words) == 2:
        return _env_rm(words[1], args.json)
    if len(words) != 1:
        raise UsageError(
            "bad-usage",
            "expected `cmpkg env list`, `cmpkg env rm NAME` or `cmpkg env NAME`",
            hint="`cmpkg env list` names the environments",
        )
    return _env_show(words[0], args.export, args.json)


def _env_list(as_json: bool) -> int:
    from cmpkg import console
    from cmpkg.commands import run

    if as_json:
        console.print_json([_env_json(record) for record in run.list_envs(home())])
    else:
        print("\n".join(run.list_names(home())))
    return 0


def _env_rm(name: str, as_json: bool) -> int:
    from cmpkg import console
    from cmpkg.commands import run

    run.remove_env(home(), name)
    if as_json:
        console.print_json({"removed": name})
    return 0


def _env_show(name: str, export: str, as_json: bool) -> int:
    from cmpkg import console
    from cmpkg.commands import run

    variables = run.env_variables(home(), name)
    if export == "json" or as_json:
        console.print_json(variables)
        return 0
    for key, value in sorted(variables.items()):
        print(run.export_line(export, key, value))
    return 0


def _env_json(record: Any) -> dict[str, Any]:
    """One row of `cmpkg env list --json` (schema in docs/cli.md)."""
    return {
        "name": record.name,
        "target": record.target,
        "requests": list(record.requests),
        "packages": sorted(record.packages),
        "app": bool(record.run),
        "apps": record.app_names(),
    }


def _shell(args: argparse.Namespace) -> int:
    from cmpkg.commands.run import shell

    return shell(home(), args.name, os.environ)
