"""The `cmpkg` command line: argument parsing, dispatch and the one place errors are rendered.

Each command group lives in its own module under `cmpkg.cli` and exposes
`register(subparsers)`. Those modules import only argparse at load time; the work they
dispatch to is imported inside the handler, so `cmpkg --version` stays fast. `cmpkg run
NAME ARGS` is dispatched before any parser is built (`_direct_run`): it starts a user's app;
so is a no-op `cmpkg install` of a plain command line (`_direct_noop`).
How arguments are parsed (options anywhere, global options on either side of the command)
is `cmpkg.cli.parser`'s business.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from cmpkg import __version__
from cmpkg.errors import EXIT_INTERRUPTED, EXIT_USAGE, CmpkgError

if TYPE_CHECKING:
    import argparse

# Command modules, in the order `cmpkg --help` lists them.
COMMAND_MODULES = (
    "cmpkg.cli.index_cmds",
    "cmpkg.cli.install_cmds",
    "cmpkg.cli.env_cmds",
    "cmpkg.cli.project_cmds",
    "cmpkg.cli.mirror_cmds",
    "cmpkg.cli.target_cmds",
    "cmpkg.cli.cache_cmds",
    "cmpkg.cli.key_cmds",
    "cmpkg.cli.sweep_cmds",
    "cmpkg.cli.results_cmds",
    "cmpkg.cli.submission_cmds",
)
# Which module registers each command, so that `cmpkg run` builds only its own parser (every
# command's options cost ~15 ms to declare). A test keeps this in step with the modules.
COMMANDS = {
    **dict.fromkeys(("index", "search", "show"), "cmpkg.cli.index_cmds"),
    **dict.fromkeys(("resolve", "why", "install"), "cmpkg.cli.install_cmds"),
    **dict.fromkeys(("run", "env", "shell"), "cmpkg.cli.env_cmds"),
    **dict.fromkeys(("init", "add", "remove", "lock"), "cmpkg.cli.project_cmds"),
    "mirror": "cmpkg.cli.mirror_cmds",
    "target": "cmpkg.cli.target_cmds",
    "cache": "cmpkg.cli.cache_cmds",
    "key": "cmpkg.cli.key_cmds",
    "sweep": "cmpkg.cli.sweep_cmds",
    "results": "cmpkg.cli.results_cmds",
    "submission": "cmpkg.cli.submission_cmds",
}


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; with `argv` naming a command, only that command's module is registered."""
    from cmpkg.cli.parser import Parser, add_global_options, command_of  # `run`: not needed

    parser = Parser(
        prog="cmpkg",
        description="A package manager for ML benchmarking stacks: tagged recipes, a complete "
        "solver, a content-addressed store and lockfiles.",
    )
    parser.add_argument("--version", action="version", version=f"cmpkg {__version__}")
    add_global_options(parser)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    wanted = COMMANDS.get(command_of(argv) or "")
    for name in (wanted,) if wanted else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def render_error(error: CmpkgError) -> None:
    from cmpkg import console

    console.message("error", f"{error.message} [{error.code}]")
    for line in error.details:
        print(f"  {line}", file=sys.stderr)
    if error.hint:
        console.message("hint", error.hint)


def parse_args(argv: Sequence[str]) -> tuple[argparse.ArgumentParser, argparse.Namespace]:
    """The parser and the parsed arguments, global options merged (usage errors exit 2)."""
    from cmpkg.cli.parser import merge_globals

    parser = build_parser(argv)
    args = parser.parse_args(argv)
    merge_globals(parser, args)
    return parser, args


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    direct = _direct_run(argv) or _direct_noop(argv)
    if direct is not None:
        return _dispatch(direct, argv, as_json=False)
    return _parsed(argv)


def _parsed(argv: list[str]) -> int:
    """The command line through the parser, then its handler."""
    parser, args = parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    args.command_line = tuple(argv)  # what the no-op record of an install is named by
    from cmpkg import status

    as_json = bool(getattr(args, "json", False))
    status.quiet(as_json)  # scripts read both streams: no drawing
    return _dispatch(lambda: args.handler(args), argv, as_json=as_json)


def _direct_run(argv: list[str]) -> Callable[[], int] | None:
    """`cmpkg run NAME [--] ARGS...`, parsed without building a parser: the app's start
    waits on cmpkg's. Exactly what argparse makes of it (NAME, then every word for the
    app, options included: its REMAINDER), so only this shape is taken here; anything
    else (`run --help`, an option before NAME) goes through the parser."""
    if len(argv) < 2 or argv[0] != "run" or argv[1].startswith("-"):
        return None
    from cmpkg.cli.env_cmds import run_app

    name, rest = argv[1], argv[2:]
    return lambda: run_app(name, rest)


def _direct_noop(argv: list[str]) -> Callable[[], int] | None:
    """`cmpkg install ...`: first the no-op's answer from its record, before any parser is
    built (`install_cmds.direct_noop` says which command lines it reads), else the parser's
    path. An error while looking is a miss: the full path meets it again and reports it as
    every install does."""
    if argv[:1] != ["install"]:
        return None

    def answer() -> int:
        from cmpkg.cli.install_cmds import direct_noop

        try:
            show = direct_noop(argv)
        except (CmpkgError, OSError):
            show = None  # looking failed: a miss (printing the answer is not in here)
        if show is None:
            return _parsed(argv)
        show()
        return 0

    return answer


def _dispatch(handler: Callable[[], int | None], argv: list[str], *, as_json: bool) -> int:
    """Run a command's handler: the one place a `CmpkgError` becomes its message and exit
    code, and anything else a crash report."""
    try:
        return int(handler() or 0)
    except CmpkgError as error:
        render_error(error)
        if as_json:  # scripts get the error as data too
            from cmpkg import console

            console.print_json({"error": error.to_json()})
        return error.exit_code
    except KeyboardInterrupt:
        from cmpkg import console

        console.message("error", "interrupted; nothing half-done was kept")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as error:
        from cmpkg.cli import crash

        return crash.report(error, argv)
