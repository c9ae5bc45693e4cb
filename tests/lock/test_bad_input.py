"""A damaged manifest or lockfile is reported as `file: key: message` with exit 2, and
nothing is written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def cmpkg(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(cwd / "home"), "NO_COLOR": "1"}
    argv = [sys.executable, "-m", "cmpkg", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def test_bad_manifest(tmp_path: Path) -> None:
    (tmp_path / "cmpkg.toml").write_text(
        '[project]\nrequests = "numpy"\ntargets = [1]\ncolour = 2\n'
    )
    done = cmpkg(tmp_path, "lock")
    assert done.returncode == 2
    manifest = tmp_path / "cmpkg.toml"
    assert f"{manifest}: project.targets[0]: expected a string, got an integer" in done.stderr
    assert f"{manifest}: project.colour: unknown key" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "cmpkg.lock").exists()


def test_truncated_lock(tmp_path: Path) -> None:
    (tmp_path / "cmpkg.toml").write_text("[project]\nrequests = []\ntargets = ['cpu']\n")
    lock = tmp_path / "cmpkg.lock"
    lock.write_text('lock-version = 1\nmanifest-hash = "x"\n[targets.cpu\n')
    for args in (("lock", "--check"), ("install", "--frozen")):
        done = cmpkg(tmp_path, *args)
        assert done.returncode == 2, args
        assert f"{lock}: invalid TOML" in done.stderr and "Traceback" not in done.stderr


def test_lock_from_a_future_cmpkg(tmp_path: Path) -> None:
    (tmp_path / "cmpkg.toml").write_text("[project]\nrequests = []\ntargets = ['cpu']\n")
    (tmp_path / "cmpkg.lock").write_text(
        'lock-version = 9\nmanifest-hash = "x"\n[index]\nrevision = "r"\n[targets]\n'
    )
    done = cmpkg(tmp_path, "install", "--frozen")
    assert done.returncode == 2
    assert "lock-version: this cmpkg reads lock-version 1, not 9" in done.stderr


def test_no_manifest_is_a_hint_not_a_traceback(tmp_path: Path) -> None:
    done = cmpkg(tmp_path, "lock")
    assert done.returncode == 2
    assert "hint: create one with `cmpkg init`" in done.stderr


def test_a_damaged_digest_in_the_lock_is_named_where_it_is(tmp_path: Path) -> None:
    """A sha256 or store key that is not 64 hex digits is a problem of the lock's field,
    not a store key that later differs for no visible reason."""
    from cmpkg.index.fields import Problems
    from cmpkg.lock import parse

    good = "a" * 64
    lock = {
        "lock-version": 1,
        "manifest-hash": good,
        "index": {"revision": good},
        "targets": {
            "cpu": {
                "python": "3.12",
                "packages": {
                    "rt": {"version": "1", "key": "K" * 64, "recipe": good},
                },
                "wheels": [
                    {"name": "rt", "version": "1", "url": "u", "sha256": "Zz"},
                    {"name": "ok", "version": "1", "url": "u", "sha256": good},
                ],
            }
        },
    }
    problems = Problems(tmp_path / "cmpkg.lock")
    assert parse(lock, problems) is None
    file = tmp_path / "cmpkg.lock"
    assert problems.lines == [
        f"{file}: targets.cpu.packages.rt.key: expected 64 lowercase hex digits, got {'K' * 64!r}",
        f"{file}: targets.cpu.wheels[0].sha256: expected 64 lowercase hex digits, got 'Zz'",
    ]
