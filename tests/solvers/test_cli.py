"""`python -m solvers solve`: exit codes 0/1/2/3, batches, readable output, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from solvers.cli import main

SCEN = Path(__file__).parent / "scenarios"


def _write(tmp_path: Path, value: Any, name: str = "p.json") -> str:
    path = tmp_path / name
    path.write_text(value if isinstance(value, str) else json.dumps(value), encoding="utf-8")
    return str(path)


def test_exit_0_satisfiable_readable(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(SCEN / "variant-requested.json")]) == 0
    assert capsys.readouterr().out.splitlines() == ["__cuda 12.4", "torch 2.1 device=cuda"]


def test_exit_1_unsatisfiable_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(SCEN / "missing-package.json"), "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out == {
        "satisfiable": False,
        "explanation": "the request needs nope >=1; there is no package nope",
        "steps": [
            {
                "kind": "request",
                "text": "the request needs nope >=1",
                "depth": 0,
                "package": "nope",
                "constraint": "nope >=1",
            },
            {
                "kind": "missing",
                "text": "there is no package nope",
                "depth": 1,
                "package": "nope",
                "constraint": "nope >=1",
            },
        ],
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{not json", "is not valid JSON"),
        ({"format": "other/1"}, "format: expected 'solvers-problem/1', got 'other/1'"),
        (
            {
                "format": "solvers-problem/1",
                "packages": {"foo": [{"version": "1", "depends": [["x", ">>1"]]}]},
                "requests": [["foo", ""]],  # packages are read lazily: only reached ones
            },
            "packages.foo[0].depends[0]: invalid specifier '>>1'",
        ),
        (
            {
                "format": "solvers-problem/1",
                "packages": {"foo": [{}, {"version": "1.x"}]},
                "requests": [["foo", ""]],
            },
            "packages.foo[1].version: invalid version '1.x'",
        ),
        (
            {"format": "solvers-problem/1", "requests": [["a"]]},
            "requests[0]: expected [name, specifier]",
        ),
    ],
)
def test_exit_2_bad_input(
    tmp_path: Path, value: Any, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["solve", _write(tmp_path, value)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_a_package_no_request_reaches_is_never_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI loads lazily: a fault in a package the request cannot reach is not read."""
    value = {
        "format": "solvers-problem/1",
        "packages": {"a": [{"version": "1"}], "broken": [{"version": "1.x"}]},
        "requests": [["a", ""]],
    }
    assert main(["solve", _write(tmp_path, value)]) == 0
    assert capsys.readouterr().out.splitlines() == ["a 1"]


def test_exit_2_missing_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", "/nonexistent/problem.json"]) == 2
    assert "cannot read /nonexistent/problem.json" in capsys.readouterr().err


def test_exit_2_unknown_backend(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["solve", str(SCEN / "no-bloat.json"), "--backend", "nope"])
    assert exc.value.code == 2


def test_exit_3_timeout(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["solve", str(SCEN / "no-bloat.json"), "--timeout", "0"]) == 3
    assert "timed out" in capsys.readouterr().err


def test_batch_prints_one_line_per_case(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    batch = {
        "format": "solvers-batch/1",
        "packages": {"a": [{"version": "2"}, {"version": "1"}]},
        "cases": [
            {"id": "new", "requests": [["a", ""]]},
            {"id": "old", "requests": [["a", "<2"]]},
            {"id": "none", "requests": [["a", ">2"]]},
        ],
    }
    assert main(["solve", _write(tmp_path, batch), "--json"]) == 1
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(x["id"], x["satisfiable"]) for x in lines] == [
        ("new", True),
        ("old", True),
        ("none", False),
    ]
    assert lines[1]["pins"] == {"a": {"version": "1", "variant": {}}}


def test_subprocess_bad_input_has_no_traceback(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "solvers", "solve", _write(tmp_path, "[1, 2")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr


def test_exit_4_internal_error_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import solvers.cli
    from solvers.solve import SolverBugError

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise SolverBugError("libsolv returned an invalid answer: request a is not met")

    monkeypatch.setattr(solvers.cli, "solve", broken)
    assert main(["solve", str(SCEN / "no-bloat.json")]) == 4
    err = capsys.readouterr().err
    assert "internal error: libsolv returned an invalid answer" in err
    assert "Traceback" not in err


PLAIN = [
    ["solve", "p.json"],
    ["solve", "p.json", "--json"],
    ["solve", "--json", "p.json", "--backend", "clingo", "--timeout", "2.5"],
    ["solve", "p.json", "--timeout", "-1", "--backend", "libsolv", "--backend", "auto"],
]
NOT_PLAIN = [  # argparse's: help, abbreviations, bad values, usage errors
    ["solve", "p.json", "--back", "clingo"],
    ["solve", "p.json", "--backend", "nope"],
    ["solve", "p.json", "--timeout", "soon"],
    ["solve", "p.json", "--timeout"],
    ["solve", "a.json", "b.json"],
    ["solve", "--", "p.json"],
    ["solve", "-h"],
    ["solve"],
    ["check", "p.json"],
]


@pytest.mark.parametrize("argv", PLAIN, ids=" ".join)
def test_a_plain_command_line_is_read_as_argparse_reads_it(argv: list[str]) -> None:
    from solvers.cli import Args, _parser, _plain_args

    assert _plain_args(argv) == Args(**vars(_parser().parse_args(argv)))


@pytest.mark.parametrize("argv", NOT_PLAIN, ids=" ".join)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    from solvers.cli import _plain_args

    assert _plain_args(argv) is None
