"""The README's commands exist as written: each command it names answers `--help`, and each
command line of its shell blocks parses."""

from __future__ import annotations

import argparse
import re
import shlex
from pathlib import Path

import pytest

from cmpkg.cli import build_parser, main, parse_args

README = (Path(__file__).parents[2] / "README.md").read_text()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _named_commands() -> list[list[str]]:
    """`cmpkg WORD [SUBWORD]` as the README names them (in prose, tables and code)."""
    commands = _subcommands(build_parser())
    found: dict[str, list[str]] = {}
    for word, rest in re.findall(r"cmpkg ([a-z]+)((?: \| [a-z]+| [a-z]+)*)", README):
        if word not in commands:
            continue
        subs = _subcommands(commands[word])
        words = [w for w in re.split(r"[ |]+", rest) if w in subs]
        for sub in words or [""]:
            form = [word, sub] if sub else [word]
            found[" ".join(form)] = form
    return list(found.values())


@pytest.mark.parametrize("words", _named_commands(), ids=" ".join)
def test_every_command_the_readme_names_answers_help(
    words: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([*words, "--help"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.startswith(f"usage: cmpkg {' '.join(words)}")


def _shell_lines() -> list[str]:
    lines = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        joined = block.replace("\\\n", " ")
        lines += [ln.split("#")[0].strip() for ln in joined.splitlines()]
    return [ln for ln in lines if ln.startswith("cmpkg ")]


def test_the_readme_names_the_main_commands() -> None:
    named = {" ".join(w) for w in _named_commands()}
    assert {"install", "run", "mirror create", "cache gc", "target show"} <= named


@pytest.mark.parametrize("line", _shell_lines())
def test_every_readme_command_line_parses(line: str) -> None:
    _parser, args = parse_args(shlex.split(line)[1:])
    assert callable(args.handler)
