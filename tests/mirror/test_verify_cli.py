"""`cmpkg mirror verify` of a damaged mirror: exit 1 for a tampered file and 2 for an
unreadable manifest, each with the problem named and a `hint:` saying what to do."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from cmpkg.cli import main
from cmpkg.mirror.manifest import Manifest, hash_file, write_manifest


def _mirror(root: Path) -> Path:
    wheel = root / "wheels" / "rt-1.0-py3-none-any.whl"
    wheel.parent.mkdir(parents=True)
    wheel.write_bytes(b"the wheel")
    now = datetime.datetime.now(datetime.timezone.utc)
    files = {"wheels/rt-1.0-py3-none-any.whl": hash_file(wheel)}
    write_manifest(root, Manifest("m1", now, now + datetime.timedelta(days=1), files))
    return wheel


def test_a_tampered_file_is_named_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    wheel = _mirror(tmp_path / "m")
    assert main(["mirror", "verify", str(tmp_path / "m")]) == 0
    capsys.readouterr()
    wheel.write_bytes(b"another wheel")
    assert main(["mirror", "verify", str(tmp_path / "m")]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith("error: wheels/rt-1.0-py3-none-any.whl: ")
    assert lines[-1].startswith("hint: ") and "cmpkg mirror create" in lines[-1]


@pytest.mark.parametrize("text", ["{", "[]", '{"format": "other"}'])
def test_an_unreadable_manifest_is_named_with_a_hint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str
) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "mirror.json").write_text(text)
    assert main(["mirror", "verify", str(tmp_path / "m")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0].startswith(f"error: {tmp_path / 'm' / 'mirror.json'}: ")
    assert lines[-1].startswith("hint: ") and "cmpkg mirror create" in lines[-1]
