"""The `cmpkg` command line: argument parsing, dispatch and the one place errors are rendered.

Each command group lives in its own module under `cmpkg.cli` and exposes
`register(subparsers)`. Those modules import only argparse at load time; the work they
dispatch to is imported inside the handler, so `cmpkg --version` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from cmpkg import __version__
from cmpkg.errors import EXIT_INTERRUPTED, EXIT_USAGE, CmpkgError

# Command modules, in the order `cmpkg --help` lists them.
COMMAND_MODULES = (
    "cmpkg.cli.index_cmds",
    "cmpkg.cli.install_cmds",
    "cmpkg.cli.env_cmds",
    "cmpkg.cli.project_cmds",
    "cmpkg.cli.mirror_cmds",
    "cmpkg.cli.target_cmds",
    "cmpkg.cli.cache_cmds",
    "cmpkg.cli.sweep_cmds",
    "cmpkg.cli.results_cmds",
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
    "sweep": "cmpkg.cli.sweep_cmds",
    "results": "cmpkg.cli.results_cmds",
}


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in cmpkg's style (one line, a hint, exit 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from cmpkg import console

        console.message("error", message)
        console.message("hint", f"see `{self.prog} --help`")
        sys.exit(EXIT_USAGE)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser; with `argv` naming a command, only that command's module is registered."""
    parser = _Parser(
        prog="cmpkg",
        description="A package manager for ML benchmarking stacks: tagged recipes, a complete "
        "solver, a content-addressed store and lockfiles.",
    )
    parser.add_argument("--version", action="version", version=f"cmpkg {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    wanted = COMMANDS.get(argv[0]) if argv else None
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        return int(args.handler(args) or 0)
    except CmpkgError as error:
        render_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
