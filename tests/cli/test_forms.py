"""Arguments as users type them: options anywhere, global options before or after the command.

Every form in docs/cli.md's "Argument order" block must parse to a command; the forms of
issue #12 item 3 are checked down to the values they set."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest

from cmpkg.cli import build_parser, main, parse_args

DOC = (Path(__file__).parents[2] / "docs" / "cli.md").read_text()


def _documented_forms() -> list[str]:
    section = DOC.split("## Argument order", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "docs/cli.md lost its Argument order block"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.mark.parametrize("form", _documented_forms())
def test_every_documented_form_parses_to_a_command(form: str) -> None:
    words = shlex.split(form)
    assert words[0] == "cmpkg"
    _parser, args = parse_args(words[1:])
    assert callable(args.handler), form


FORMS: list[tuple[str, dict[str, Any]]] = [
    (
        "mirror create ./m --target cpu mlperf-resnet50",
        {"dir": Path("m"), "target": ["cpu"], "requests": ["mlperf-resnet50"]},
    ),
    ("resolve A --target cpu B", {"requests": ["A", "B"], "target": "cpu"}),
    (
        "install --dry-run A --target cpu B",
        {"requests": ["A", "B"], "target": "cpu", "dry_run": True},
    ),
    ("--index DIR resolve X", {"requests": ["X"], "index": [Path("DIR")]}),
    ("--index D1 resolve X --index D2", {"index": [Path("D1"), Path("D2")]}),
    ("--mirror ./m install X", {"requests": ["X"], "mirror": "./m"}),
    ("install X --mirror ./m", {"mirror": "./m"}),
    ("--offline install X", {"offline": True}),
    ("--index more search resnet --json", {"index": [Path("more")], "json": True}),
    ("run app -- --scenario Offline", {"name": "app", "args": ["--scenario", "Offline"]}),
    ("run app --scenario Offline", {"name": "app", "args": ["--scenario", "Offline"]}),
]


@pytest.mark.parametrize(("form", "expected"), FORMS, ids=[f for f, _ in FORMS])
def test_form_sets_what_it_says(form: str, expected: dict[str, Any]) -> None:
    _parser, args = parse_args(shlex.split(form))
    assert {key: getattr(args, key) for key in expected} == expected


def test_a_global_option_a_command_cannot_use_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--mirror", "./m", "search", "numpy"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines()[0] == (
        "error: --mirror does not apply to `cmpkg search`"
    )


@pytest.mark.parametrize(
    ("argv", "command"),
    [(["resolve", "--bogus", "numpy"], "cmpkg resolve"), (["cache", "gc", "-x"], "cmpkg cache gc")],
)
def test_an_unknown_option_points_at_its_command_s_help(
    argv: list[str], command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.splitlines() == [
        f"error: unrecognized arguments: {argv[-2] if argv[0] == 'resolve' else argv[-1]}",
        f"hint: see `{command} --help`",
    ]


def test_resolve_with_options_between_requests_runs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "numpy", "--target", "cpu", "onnx", "--json"]) == 0
    import json

    packages = json.loads(capsys.readouterr().out)["packages"]
    assert {"numpy", "onnx"} <= set(packages)


RUN_FORMS = [
    "run app",
    "run app --",
    "run app -- --scenario Offline",
    "run app --scenario Offline",
    "run app x -- y",
    "run app -h",
    "run app --json x",
    "run app --offline --index d",
]


@pytest.mark.parametrize("form", RUN_FORMS)
def test_a_run_is_dispatched_without_a_parser_as_the_parser_reads_it(
    form: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cmpkg run NAME ...` skips argparse (`cmpkg.cli._direct_run`): the app gets the same
    words either way, options included."""
    from cmpkg.cli import env_cmds

    seen: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(env_cmds, "run", lambda name, args, *_: seen.append((name, args)) or 0)
    assert main(shlex.split(form)) == 0
    _parser, args = parse_args(shlex.split(form))
    assert args.handler(args) == 0
    assert seen[0] == seen[1], form


def test_a_second_double_dash_goes_to_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    from cmpkg.cli import env_cmds

    seen: list[tuple[str, list[str]]] = []
    monkeypatch.setattr(env_cmds, "run", lambda name, args, *_: seen.append((name, args)) or 0)
    assert main(["run", "app", "--", "--", "x"]) == 0
    assert seen == [("app", ["--", "x"])]


INSTALL_FORMS = [
    "install",
    "install app",
    "install app --target cpu",
    "install --target=cpu app b",
    "install app --target cpu --target cuda",
    "install app --target= --json",
    "install a --index d --target cpu b --find-links w --no-index --json",
    "install a --env e --backend libsolv --with a.path=/x --cache oci://h/r --offline",
    "install a --no-build --index=d --json --json",
    "install 'a[x=1]' --target profiles/t.toml",
]
#: Command lines the no-op's reader leaves to the parser: a lock, a mirror, a dry run, an
#: abbreviation, a value like an option, anything it does not know.
PARSER_ONLY = [
    "install a --locked",
    "install a --frozen --lock x.lock",
    "install a --mirror m",
    "install a --dry-run",
    "install a --tar cpu",
    "install a --target",
    "install a --env --target cpu",
    "install a --json=1",
    "install -- a",
    "install a --help",
]


@pytest.mark.parametrize("form", INSTALL_FORMS)
def test_the_no_op_reader_takes_target_and_json_as_the_parser_does(form: str) -> None:
    """`cmpkg install` is answered before the parser is built (`install_cmds.direct_noop`):
    what it reads of the words must be what argparse makes of them."""
    from cmpkg.cli.install_cmds import _plain_install

    words = shlex.split(form)
    _parser, args = parse_args(words)
    assert _plain_install(words[1:]) == (args.target, args.json), form
    assert not (args.locked or args.frozen or args.lock or args.mirror or args.dry_run)


@pytest.mark.parametrize("form", PARSER_ONLY)
def test_the_no_op_reader_leaves_every_other_form_to_the_parser(form: str) -> None:
    from cmpkg.cli.install_cmds import _plain_install

    assert _plain_install(shlex.split(form)[1:]) is None, form


def test_the_no_op_reader_knows_each_option_s_arity_as_the_parser_declares_it() -> None:
    """An option the reader skips must take a value exactly when the parser's does, or it
    would read a request or the target from the wrong word."""
    from cmpkg.cli.install_cmds import FLAGS, WITH_VALUE

    parser = build_parser(["install"])
    install = next(a for a in parser._actions if a.dest == "command").choices["install"]  # type: ignore[union-attr]
    arity = {
        flag: action.nargs != 0 for action in install._actions for flag in action.option_strings
    }
    assert {f: arity[f] for f in WITH_VALUE} == dict.fromkeys(WITH_VALUE, True)
    assert {f: arity[f] for f in FLAGS} == dict.fromkeys(FLAGS, False)
