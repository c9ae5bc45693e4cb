"""A malformed input file (cmpkg.toml, a profile, the config file) through the CLI: exit 2,
an `error:` line that names the file, the `file: key: message` detail, a `hint:` saying how
to fix it, no traceback, and nothing written (no lock next to a bad manifest)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cmpkg.cli import main

GOOD = '[project]\nname = "x"\nrequests = ["numpy"]\ntargets = ["cpu"]\n'

# (file name, its text, command line, the detail line after "FILE: ")
CASES: list[tuple[str, str, list[str], str]] = [
    ("cmpkg.toml", "[project\n", ["lock"], "invalid TOML"),
    ("cmpkg.toml", GOOD + "bogus = 1\n", ["lock"], "project.bogus: unknown key"),
    ("cmpkg.toml", GOOD.replace('"x"', "3"), ["install", "--dry-run"], "project.name: expected"),
    ("cmpkg.toml", GOOD + "[sweep]\nbenchmarks = 3\n", ["sweep", "plan"], "sweep.benchmarks"),
    ("bad.toml", 'python = "3.12"\n', ["target", "show", "--target", "bad.toml"], "facts"),
    ("config.toml", "offline = 3\n", ["search", "numpy"], "offline: expected"),
]


@pytest.mark.parametrize(("name", "text", "argv", "detail"), CASES, ids=lambda v: str(v)[:40])
def test_a_bad_file_is_named_with_a_hint_and_nothing_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    text: str,
    argv: list[str],
    detail: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("CMPKG_CONFIG", str(tmp_path / "config.toml"))
    if name != "cmpkg.toml":
        (tmp_path / "cmpkg.toml").write_text(GOOD)
    bad = tmp_path / name
    bad.write_text(text)
    assert main([str(bad) if arg == name else arg for arg in argv]) == 2
    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0].startswith("error: ") and str(bad) in lines[0], err
    assert any(line.strip().startswith(f"{bad}: {detail}") for line in lines[1:]), err
    assert lines[-1].startswith("hint: ") and "docs/" in lines[-1], err
    assert "Traceback" not in err
    assert bad.read_text() == text
    assert not (tmp_path / "cmpkg.lock").exists()


@pytest.mark.parametrize(
    ("target", "first"),
    [
        ("nosuch", "error: unknown target 'nosuch' [unknown-target]"),
        ("cpu:bogus=1", "error: invalid --target 'cpu:bogus=1' [bad-target]"),
        ("./missing.toml", "error: no profile file missing.toml [unknown-target]"),
    ],
)
def test_init_with_a_bad_target_writes_nothing(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    target: str,
    first: str,
) -> None:
    """`cmpkg init --target T` checks T as `cmpkg lock` will read it, before writing."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    assert main(["init", "--target", "cpu", "--target", target]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == first
    assert lines[-1].startswith("hint: ")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == []


def test_init_twice_says_how_to_change_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CMPKG_HOME", str(tmp_path / "home"))
    assert main(["init", "--target", "cpu"]) == 0
    before = (tmp_path / "cmpkg.toml").read_text()
    capsys.readouterr()
    assert main(["init"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"error: {tmp_path / 'cmpkg.toml'} already exists [manifest-exists]"
    assert lines[-1].startswith("hint: ")
    assert (tmp_path / "cmpkg.toml").read_text() == before
