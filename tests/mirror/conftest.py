"""Shared by the mirror tests: a project whose app needs a wheel and a loopback-served
artifact, locked and mirrored once per session, and `cmpkg()` to run the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.install.wheels import build_wheel
from tests.mirror.run import cmpkg
from tests.support.httpserver import FaultServer

INDEX = Path(__file__).parents[1] / "resolve" / "index"


def _blob() -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = b"weights\n"
        info = tarfile.TarInfo("weights.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


@pytest.fixture(scope="session")
def server() -> Iterator[FaultServer]:
    with FaultServer() as srv:
        yield srv


def write_project(root: Path, url: str, blob: bytes) -> None:
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


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory, server: FaultServer) -> Path:
    """`world/` holds the project (cmpkg.toml, cmpkg.lock, extra/), `wheels/` and the
    mirror `m/` made from its lock."""
    root = tmp_path_factory.mktemp("world")
    (root / "wheels").mkdir()
    build_wheel(root / "wheels", "rt", "2.0", "VERSION = '2.0'\n")
    blob = _blob()
    write_project(root, server.serve("/blob.tar.gz", blob), blob)
    home = root / "home-online"
    links = ("--find-links", str(root / "wheels"), "--no-index")
    done = cmpkg(root, home, "lock", *links)
    assert done.returncode == 0, done.stderr
    done = cmpkg(root, home, "mirror", "create", str(root / "m"), *links)
    assert done.returncode == 0, done.stderr
    return root
