"""Mirrors end to end: create from a lock, install with no network at all from a fresh
CMPKG_HOME, serve over loopback HTTP, and refuse tampered bytes and rollbacks."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel
from tests.support.httpserver import FaultServer

INDEX = Path(__file__).parents[1] / "resolve" / "index"
pytestmark = pytest.mark.slow


def cmpkg(
    cwd: Path, home: Path, *args: str, netns: bool = False, extra_env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CMPKG_HOME": str(home), "NO_COLOR": "1", **(extra_env or {})}
    prefix = ["unshare", "-n"] if netns else []
    argv = [*prefix, sys.executable, "-m", "cmpkg", *args]
    return subprocess.run(argv, capture_output=True, text=True, env=env, cwd=cwd, check=False)


def _blob() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"weights\n"
        info = tarfile.TarInfo("weights.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, server: FaultServer) -> Path:
    """A project whose app needs a wheel and a downloadable artifact served on loopback."""
    root = tmp_path_factory.mktemp("world")
    (root / "wheels").mkdir()
    build_wheel(root / "wheels", "rt", "2.0", "VERSION = '2.0'\n")
    blob = _blob()
    url = server.serve("/blob.tar.gz", blob)
    extra = root / "extra"
    extra.mkdir()
    (extra / "blob.toml").write_text(
        'name = "blob"\nversion = "1"\nkind = "model"\ntags = ["blob"]\nsummary = "s"\n'
        'license = "MIT"\nhomepage = "https://example.org"\n'
        'env = { BLOB = "${entry}/weights.bin" }\n[provide]\nmethod = "download"\n'
        f'[[sources]]\nurl = "{url}"\nsha256 = "{hashlib.sha256(blob).hexdigest()}"\n'
        f'size = {len(blob)}\nextract = true\nverified = "made by the test"\n'
    )
    (extra / "app2.toml").write_text(
        'name = "app2"\nversion = "1"\nkind = "app"\ntags = ["app2"]\nsummary = "s"\n'
        'license = "MIT"\nhomepage = "https://example.org"\ndepends = ["rt", "blob"]\n'
        'run = ["python", "-c", "import os, rt; '
        "print(rt.VERSION, open(os.environ['BLOB']).read().strip())\"]\n"
    )
    (root / "cmpkg.toml").write_text(
        "[project]\nrequests = ['app2']\ntargets = ['cpu']\n"
        f"index = [{json.dumps(str(INDEX))}, {json.dumps(str(extra))}]\n"
    )
    home = root / "home-online"
    done = cmpkg(root, home, "lock", "--find-links", str(root / "wheels"), "--no-index")
    assert done.returncode == 0, done.stderr
    done = cmpkg(
        root,
        home,
        "mirror",
        "create",
        str(root / "m"),
        "--find-links",
        str(root / "wheels"),
        "--no-index",
    )
    assert done.returncode == 0, done.stderr
    return root


def test_mirror_holds_wheels_artifacts_index_and_lock(world: Path) -> None:
    manifest = json.loads((world / "m" / "mirror.json").read_text())
    files = manifest["files"]
    assert "artifacts/blob.tar.gz" in files and "cmpkg.lock" in files
    assert any(p.startswith("wheels/rt-2.0") for p in files)
    assert any(p.endswith("blob.toml") for p in files)
    assert cmpkg(world, world / "h", "mirror", "verify", str(world / "m")).returncode == 0


def test_air_gapped_install_and_run(world: Path, tmp_path: Path) -> None:
    if subprocess.run(["unshare", "-n", "true"], check=False).returncode != 0:
        pytest.skip("cannot create a network namespace here")
    log = tmp_path / "sockets.log"
    env = {
        "CMPKG_TEST_SOCKET_LOG": str(log),
        "PYTHONPATH": f"{Path(__file__).parent}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
    }
    hook = [
        "-c",
        "import audit_sockets, runpy, sys; sys.argv[0] = 'cmpkg'; "
        "runpy.run_module('cmpkg', run_name='__main__')",
    ]
    home = tmp_path / "home"
    cwd = tmp_path  # no project here: the mirror's own lock is used
    argv = [
        "unshare",
        "-n",
        sys.executable,
        *hook,
        "install",
        "--frozen",
        "--offline",
        "--mirror",
        str(world / "m"),
    ]
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={**os.environ, "CMPKG_HOME": str(home), **env},
    )
    assert done.returncode == 0, done.stderr
    remote = [
        line
        for line in (log.read_text().splitlines() if log.exists() else [])
        if "127.0.0.1" not in line
    ]
    assert remote == []
    run = cmpkg(cwd, home, "run", "app2", netns=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["2.0", "weights"]


def test_mirror_over_loopback_http(world: Path, tmp_path: Path) -> None:
    serve = subprocess.Popen(
        [sys.executable, "-m", "cmpkg", "mirror", "serve", str(world / "m"), "--port", "0"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        assert serve.stderr is not None
        line = serve.stderr.readline()
        url = line.split(" at ")[1].split()[0]
        done = cmpkg(
            tmp_path, tmp_path / "home", "install", "--frozen", "--offline", "--mirror", url
        )
        assert done.returncode == 0, done.stderr
    finally:
        serve.terminate()
        serve.wait()


def test_flipped_byte_is_detected_and_refused(world: Path, tmp_path: Path) -> None:
    copy = tmp_path / "m"
    shutil.copytree(world / "m", copy)
    wheel = next((copy / "wheels").glob("rt-*.whl"))
    data = bytearray(wheel.read_bytes())
    data[len(data) // 2] ^= 0xFF
    wheel.write_bytes(bytes(data))
    verify = cmpkg(tmp_path, tmp_path / "h", "mirror", "verify", str(copy))
    assert verify.returncode == 1 and "tampered or stale" in verify.stderr
    install = cmpkg(
        tmp_path, tmp_path / "h", "install", "--frozen", "--offline", "--mirror", str(copy)
    )
    assert install.returncode == 1
    assert "does not match the mirror's manifest" in install.stderr


def test_older_mirror_is_refused_after_a_newer_one(world: Path, tmp_path: Path) -> None:
    old = tmp_path / "old"
    shutil.copytree(world / "m", old)
    home = tmp_path / "h"
    new = cmpkg(
        world,
        home,
        "mirror",
        "create",
        str(world / "m"),
        "--find-links",
        str(world / "wheels"),
        "--no-index",
    )
    assert new.returncode == 0, new.stderr
    assert (
        cmpkg(
            tmp_path,
            home,
            "install",
            "--frozen",
            "--offline",
            "--dry-run",
            "--mirror",
            str(world / "m"),
        ).returncode
        == 0
    )
    refused = cmpkg(
        tmp_path, home, "install", "--frozen", "--offline", "--dry-run", "--mirror", str(old)
    )
    assert refused.returncode == 1 and "older than one already used" in refused.stderr
