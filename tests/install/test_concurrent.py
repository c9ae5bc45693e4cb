"""Two `cmpkg install` processes for the same app at once: one downloads and builds each
entry, both succeed with the same keys (RELIABILITY D.19, end to end through the CLI)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.support.httpserver import FaultServer

pytestmark = pytest.mark.slow


def _archive() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = os.urandom(256 * 1024)  # big enough that the two processes overlap
        info = tarfile.TarInfo("weights.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _index(root: Path, url: str, sha256: str, size: int) -> Path:
    """An index with one downloadable package, `weights`, served at `url`."""
    index = root / "index"
    index.mkdir()
    (index / "weights.toml").write_text(
        'name = "weights"\nversion = "1"\nkind = "model"\ntags = ["weights"]\n'
        'summary = "s"\nlicense = "MIT"\nhomepage = "https://example.org"\n'
        '[provide]\nmethod = "download"\n'
        f'[[sources]]\nurl = "{url}"\nsha256 = "{sha256}"\nsize = {size}\n'
        'extract = true\nverified = "made by the test"\n'
    )
    return index


def test_concurrent_installs_fetch_and_build_once(tmp_path: Path) -> None:
    blob = _archive()
    with FaultServer() as server:
        url = server.serve("/weights.tar.gz", blob)
        index = _index(tmp_path, url, hashlib.sha256(blob).hexdigest(), len(blob))
        env = {**os.environ, "CMPKG_HOME": str(tmp_path / "home"), "NO_COLOR": "1"}
        argv = [
            sys.executable,
            "-m",
            "cmpkg",
            "install",
            "weights",
            "--index",
            str(index),
            "--json",
        ]
        runs = [
            subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
            )
            for _ in range(2)
        ]
        outputs = [run.communicate(timeout=120) for run in runs]
        assert [run.returncode for run in runs] == [0, 0], outputs
        keys = [json.loads(out)["packages"]["weights"] for out, _err in outputs]
        assert keys[0] == keys[1]
        assert server.hits("/weights.tar.gz") == 1
        built = sum(json.loads(out)["built"] for out, _err in outputs)
        assert built >= 1


def test_tampered_artifact_is_refused_and_leaves_no_entry(tmp_path: Path) -> None:
    blob = _archive()
    expected = hashlib.sha256(blob).hexdigest()
    with FaultServer() as server:
        tampered = bytearray(blob)
        tampered[100] ^= 0xFF
        url = server.serve("/weights.tar.gz", bytes(tampered))
        index = _index(tmp_path, url, expected, len(blob))
        home = tmp_path / "home"
        env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1"}
        argv = [sys.executable, "-m", "cmpkg", "install", "weights", "--index", str(index)]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1
    assert "weights" in done.stderr and expected in done.stderr
    assert hashlib.sha256(bytes(tampered)).hexdigest() in done.stderr
    assert "Traceback" not in done.stderr
    entries = home / "store-v1" / "entries"
    assert not entries.exists() or not any(entries.iterdir())
    downloads = home / "store-v1" / "downloads"
    assert not any(p.is_file() and p.stat().st_size for p in downloads.rglob("*weights*"))
