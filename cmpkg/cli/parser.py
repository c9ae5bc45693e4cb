"""The argument parser: options anywhere among positionals, global options on either side.

Users type `cmpkg resolve A --target cpu B` and `cmpkg --index DIR resolve X` as readily as
the canonical forms, so:
- every leaf command is parsed with argparse's intermixed mode (options and positionals in any
  order); commands whose trailing arguments go to another program (`cmpkg run NAME -- ARGS`)
  keep the plain mode, which stops at their REMAINDER;
- the global options (GLOBALS) are declared on the main parser under their own `global_*`
  destinations, and merged after parsing into the command's own option of the same name
  (appended for a list, used as the default of a scalar). A global option given to a command
  that has no such option is a usage error, never silently ignored.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from cmpkg.errors import EXIT_USAGE


class Parser(argparse.ArgumentParser):
    """argparse that reports usage errors in cmpkg's style (one line, a hint, exit 2), and
    whose subcommands are parsed intermixed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", Formatter)
        super().__init__(*args, **kwargs)
        self.register("action", "parsers", IntermixedSubParsers)

    def error(self, message: str, hint: str | None = None) -> NoReturn:
        from cmpkg import console

        console.message("error", message)
        console.message("hint", hint or f"see `{self.prog} --help`")
        sys.exit(EXIT_USAGE)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        """An unknown command word gets a close match, as `git` and `uv` offer one."""
        if isinstance(action, argparse._SubParsersAction) and value not in action.choices:
            import difflib

            known = list(action.choices)
            close = difflib.get_close_matches(value, known, n=1)
            hint = f"did you mean `{self.prog} {close[0]}`?" if close else None
            self.error(f"unknown command {value!r}; commands: {', '.join(known)}", hint)
        super()._check_value(action, value)


class Formatter(argparse.HelpFormatter):
    """argparse's formatter with the terminal's width read as `shutil.get_terminal_size`
    reads it, without importing shutil (and its compression modules): argparse makes one
    formatter per option it declares, and every command declares its options."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24) -> None:
        super().__init__(prog, indent_increment, max_help_position, width=_columns() - 2)


def _columns() -> int:
    try:
        return int(os.environ["COLUMNS"]) or _terminal_columns()
    except (KeyError, ValueError):
        return _terminal_columns()


def _terminal_columns() -> int:
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns or 80  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class IntermixedSubParsers(argparse._SubParsersAction):  # type: ignore[type-arg]
    """Dispatch to a subcommand, parsing a leaf command's arguments intermixed.

    Mirrors `argparse._SubParsersAction.__call__` (Python 3.11) but for the parse call: a
    command with subcommands of its own, or with a REMAINDER or sub-parser positional
    (which intermixed parsing rejects), is parsed as argparse always does.
    """

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        name, arg_strings = values[0], list(values[1:])
        if self.dest is not argparse.SUPPRESS:
            setattr(namespace, self.dest, name)
        chosen = self._name_parser_map.get(name)
        if chosen is None:
            choices = ", ".join(self._name_parser_map)
            raise argparse.ArgumentError(self, f"unknown command {name!r} (choose from {choices})")
        if _intermixable(chosen):
            sub, extras = chosen.parse_known_intermixed_args(arg_strings, None)
        else:
            sub, extras = chosen.parse_known_args(arg_strings, None)
        for key, value in vars(sub).items():
            setattr(namespace, key, value)
        if extras:  # reported by the command's parser, so its hint names the command's help
            chosen.error(f"unrecognized arguments: {' '.join(extras)}")


def _intermixable(parser: argparse.ArgumentParser) -> bool:
    positionals = [a for a in parser._actions if not a.option_strings]
    return not any(a.nargs in (argparse.PARSER, argparse.REMAINDER) for a in positionals)


# The global options: (flags, add_argument keywords). Each merges into the command's own
# option of the same destination, so `cmpkg --index D resolve X` == `cmpkg resolve X --index D`.
GLOBALS: dict[str, dict[str, Any]] = {
    "--index": {
        "action": "append",
        "type": Path,
        "default": [],
        "metavar": "DIR",
        "help": "an extra recipe index, stacked after the shipped one (repeatable)",
    },
    "--mirror": {
        "metavar": "DIR|URL",
        "help": "take index, artifacts and wheels from a mirror first (env CMPKG_MIRROR)",
    },
    "--force-mirror": {
        "action": "store_true",
        "help": "accept a mirror older than one used before",
    },
    "--offline": {
        "action": "store_true",
        "help": "no network but loopback mirrors (env CMPKG_OFFLINE=1)",
    },
}
_TAKES_VALUE = {
    flag for flag, spec in GLOBALS.items() if "action" not in spec or "append" in spec["action"]
}


def add_global_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("global options (also accepted after the command)")
    for flag, spec in GLOBALS.items():
        group.add_argument(flag, dest=_global_dest(flag), **spec)


def _global_dest(flag: str) -> str:
    return "global_" + flag.lstrip("-").replace("-", "_")


def command_of(argv: Sequence[str]) -> str | None:
    """The command word of `argv`, skipping global options and their values."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word in _TAKES_VALUE:
            skip = True
        elif not word.startswith("-"):
            return word
        elif word == "--":
            return None
    return None


def merge_globals(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Fold each `global_*` value into the command's own option (see the module docstring)."""
    for flag, spec in GLOBALS.items():
        given = getattr(args, _global_dest(flag))
        delattr(args, _global_dest(flag))
        if given in ([], False, None):
            continue
        dest = flag.lstrip("-").replace("-", "_")
        if not hasattr(args, dest) or getattr(args, "handler", None) is None:
            command = " ".join(w for w in _command_words(args) if w)
            parser.error(f"{flag} does not apply to `cmpkg {command}`")
        own = getattr(args, dest)
        if spec.get("action") == "append":
            setattr(args, dest, [*given, *own])
        elif own in (None, False):
            setattr(args, dest, given)


def _command_words(args: argparse.Namespace) -> list[str]:
    words = [getattr(args, "command", None) or ""]
    words += [v for k, v in vars(args).items() if k.endswith("_command") and isinstance(v, str)]
    return words
