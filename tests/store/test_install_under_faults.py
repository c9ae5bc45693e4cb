"""Fetch + extract + store under injected network faults: every install must succeed
(the "installs succeeding under injected faults" figure in docs/store.md)."""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
from pathlib import Path
from typing import Any

import pytest

from cmpkg.archive import extract
from cmpkg.errors import CmpkgError
from cmpkg.fetch import Artifact, fetch
from cmpkg.store import Store, entry_key
from tests.support.httpserver import Fault, FaultServer


def tarball(seed: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        data = random.Random(seed).randbytes(200_000)  # incompressible: faults land mid-body
        info = tarfile.TarInfo(f"pkg-{seed}/data.bin")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


FAULTS: list[list[Fault]] = [
    [Fault(status=500), Fault(status=502)],
    [Fault(status=503, retry_after="0")],
    [Fault(status=429, retry_after="0"), Fault(status=504)],
    [Fault(reset_after=1000)],
    [Fault(reset_after=50_000), Fault(reset_after=10)],
    [Fault(stall=3.0)],
    [Fault(trickle=(10, 0.05))],
    [Fault(content_length=10**7)],
    [Fault(status=503), Fault(reset_after=5000), Fault(ignore_range=True)],
    [Fault(extra=b"junk")],  # the first mirror appends bytes: refused, second mirror used
]


def install(store: Store, server: FaultServer, seed: int, faults: list[Fault]) -> bool:
    data = tarball(seed)
    primary = server.serve(f"/p/{seed}.tar.gz", data)
    mirror = server.serve(f"/m/{seed}.tar.gz", data)
    for fault in faults:
        server.fail(f"/p/{seed}.tar.gz", fault)
    art = Artifact(
        f"pkg-{seed}", (primary, mirror), f"{seed}.tar.gz", hashlib.sha256(data).hexdigest(),
        len(data),
    )  # fmt: skip

    def build(tmp: Path) -> dict[str, Any]:
        got = fetch(art, store.downloads_dir, stall_timeout=0.5, backoff=0.01, retries=4)
        extract(got.path, tmp / "src")
        return {"url": got.url}

    entry = store.ensure(entry_key({"seed": seed}), build)
    return store.verify(entry.key).ok and (entry.path / f"src/pkg-{seed}/data.bin").exists()


def test_installs_succeed_under_injected_faults(tmp_path: Path, http_server: FaultServer) -> None:
    store = Store(tmp_path / "home")
    results = [install(store, http_server, seed, f) for seed, f in enumerate(FAULTS)]
    print(f"\nfigure: {sum(results)}/{len(results)} installs succeeded under injected faults")
    assert all(results)
    assert not list(store.downloads_dir.rglob("*.partial"))


def test_tampered_artifact_leaves_no_entry_and_no_dependent(
    tmp_path: Path, http_server: FaultServer
) -> None:
    store = Store(tmp_path / "home")
    url = http_server.serve("/dep.tar.gz", tarball(1))
    art = Artifact("dep 1.0", (url,), "dep.tar.gz", sha256="0" * 64)

    def build_dep(tmp: Path) -> dict[str, Any]:
        extract(fetch(art, store.downloads_dir, backoff=0.01).path, tmp / "src")
        return {}

    def install_app() -> None:  # dependencies first, as the install orchestrator does
        store.ensure(entry_key({"name": "dep"}), build_dep)
        store.ensure(entry_key({"name": "app"}), lambda tmp: {})

    with pytest.raises(CmpkgError) as caught:
        install_app()
    assert caught.value.code == "hash-mismatch" and "dep 1.0" in caught.value.message
    assert store.list() == []
    assert list(store.downloads_dir.iterdir()) == []
    assert list((store.base / "tmp").iterdir()) == []
