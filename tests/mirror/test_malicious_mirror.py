"""A malicious HTTP mirror, served from loopback by the test's own server: traversal in its
id and file keys, oversized metadata and tampered files. Each attack is refused with its exit
code and message, and nothing is written outside CMPKG_HOME (a canary directory beside it
stays as it was, a victim directory keeps its files)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cmpkg.mirror.manifest import MAX_LOCK_BYTES, MAX_MANIFEST_BYTES
from tests.install.wheels import build_wheel
from tests.mirror.run import cmpkg, mirror_serve
from tests.support.httpserver import Fault, FaultServer

pytestmark = pytest.mark.slow
FROZEN = ("install", "--frozen", "--offline", "--dry-run", "--mirror")


def serve_mirror(
    server: FaultServer, prefix: str, mirror: Path, manifest: dict[str, object]
) -> str:
    """Every file of `mirror` at `/prefix/...`, with `manifest` as its mirror.json."""
    for path in mirror.rglob("*"):
        if path.is_file() and path.name != "mirror.json":
            server.serve(f"/{prefix}/{path.relative_to(mirror).as_posix()}", path.read_bytes())
    server.serve(f"/{prefix}/mirror.json", json.dumps(manifest).encode())
    return server.url(f"/{prefix}/")


def manifest_of(world: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((world / "m" / "mirror.json").read_text())
    return data


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under `root` with its bytes, except CMPKG_HOME (where writing is allowed)."""
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "home" not in p.relative_to(root).parts
    }


@pytest.fixture()
def place(tmp_path: Path) -> Path:
    """tmp/home (CMPKG_HOME), tmp/outside (a canary) and tmp/victim/keep.txt."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "victim").mkdir()
    (tmp_path / "victim" / "keep.txt").write_text("mine\n")
    return tmp_path


PAYLOAD = b"attacker bytes\n"


@pytest.mark.parametrize(
    "key",
    [
        "index/../../../../outside/x",
        "index/00/../../../../../outside/x.toml",
        "cmpkg.lock/../../../../outside/x",
        "wheels/../../../../outside/x.whl",
        "index\\..\\..\\..\\..\\outside\\x",
        "index/00/con.toml",
        "index/00/a\u0000b",
        "index/00/C:x",
        "ABSOLUTE",
    ],
)
def test_traversal_in_a_file_key_writes_nothing_outside(
    world: Path, server: FaultServer, place: Path, key: str
) -> None:
    if key == "ABSOLUTE":
        key = str(place / "outside" / "x")
    manifest = manifest_of(world)
    files = dict(manifest["files"])  # type: ignore[call-overload]
    files[key] = {"sha256": hashlib.sha256(PAYLOAD).hexdigest(), "size": len(PAYLOAD)}
    manifest["files"] = files
    prefix = "key" + hashlib.sha256(key.encode()).hexdigest()[:12]
    url = serve_mirror(server, prefix, world / "m", manifest)
    server.serve(f"/{prefix}/{key}", PAYLOAD)
    server.serve("/outside/x", PAYLOAD)  # where a client normalising `..` would ask
    before = snapshot(place)
    done = cmpkg(place, place / "home", *FROZEN, url)
    assert done.returncode == 2, done.stderr
    assert "invalid mirror manifest" in done.stderr and "[bad-mirror]" in done.stderr
    assert repr(key)[1:-1] in done.stderr  # the bad key is named
    assert snapshot(place) == before
    assert not (place / "home" / "mirrors").exists()  # refused before anything was written


@pytest.mark.parametrize("ident", ["../../victim", "../../../victim", "/tmp/victim", "a/b", ".."])
def test_traversal_in_the_id_touches_no_other_directory(
    world: Path, server: FaultServer, place: Path, ident: str
) -> None:
    manifest = manifest_of(world)
    manifest["id"] = ident
    url = serve_mirror(
        server, "id" + hashlib.sha256(ident.encode()).hexdigest()[:12], world / "m", manifest
    )
    before = snapshot(place)
    done = cmpkg(place, place / "home", *FROZEN, url)
    assert done.returncode == 2, done.stderr
    assert "id: " in done.stderr and "not a plain slug" in done.stderr
    assert snapshot(place) == before
    assert (place / "victim" / "keep.txt").read_text() == "mine\n"


def test_oversized_manifest_is_refused_at_the_cap(server: FaultServer, place: Path) -> None:
    # Valid JSON to the end: only the cap can refuse it.
    padding = b" " * (MAX_MANIFEST_BYTES + 1024)
    server.serve("/big/mirror.json", b'{"format": "cmpkg-mirror/1",' + padding + b'"files": {}}')
    before = snapshot(place)
    done = cmpkg(place, place / "home", *FROZEN, server.url("/big/"))
    assert done.returncode == 1, done.stderr
    assert "[metadata-too-large]" in done.stderr and "32 MiB" in done.stderr
    assert snapshot(place) == before


def test_oversized_lock_declared_in_the_manifest_is_refused(
    world: Path, server: FaultServer, place: Path
) -> None:
    manifest = manifest_of(world)
    files = dict(manifest["files"])  # type: ignore[call-overload]
    files["cmpkg.lock"] = {"sha256": "0" * 64, "size": MAX_LOCK_BYTES + 1}
    manifest["files"] = files
    url = serve_mirror(server, "biglock", world / "m", manifest)
    done = cmpkg(place, place / "home", *FROZEN, url)
    assert done.returncode == 2, done.stderr
    assert "over the 16 MiB cap for metadata" in done.stderr
    assert server.hits("/biglock/cmpkg.lock") == 0  # refused before asking for it


def test_metadata_longer_than_declared_is_cut_and_refused(
    world: Path, server: FaultServer, place: Path
) -> None:
    url = serve_mirror(server, "long", world / "m", manifest_of(world))
    server.fail("/long/cmpkg.lock", Fault(extra=b"x" * (4 << 20)))
    before = snapshot(place)
    done = cmpkg(place, place / "home", *FROZEN, url)
    assert done.returncode == 1, done.stderr
    assert "cmpkg.lock is longer than the manifest's" in done.stderr
    assert "tampered or stale mirror" in done.stderr
    assert snapshot(place) == before
    cache = place / "home" / "mirrors"
    assert not any(p.is_file() for p in cache.rglob("*")) if cache.exists() else True


def test_tampered_index_file_is_refused(world: Path, server: FaultServer, place: Path) -> None:
    url = serve_mirror(server, "idx", world / "m", manifest_of(world))
    recipe = next(p for p in (world / "m" / "index").rglob("app2.toml"))
    rel = recipe.relative_to(world / "m").as_posix()
    evil = recipe.read_bytes().replace(b'summary = "s"', b'summary = "x"')
    server.serve(f"/idx/{rel}", evil)  # same size, other bytes
    done = cmpkg(place, place / "home", *FROZEN, url)
    assert done.returncode == 1, done.stderr
    assert f"{rel} does not match the mirror's manifest (tampered or stale mirror)" in done.stderr


@pytest.mark.parametrize("frozen", [True, False], ids=["frozen", "resolving"])
def test_tampered_wheel_is_never_installed(world: Path, place: Path, frozen: bool) -> None:
    """`cmpkg mirror serve` of a mirror whose wheel was replaced by another valid wheel."""
    copy = place / "served"
    shutil.copytree(world / "m", copy)
    wheel = next((copy / "wheels").glob("rt-*.whl"))
    wheel.unlink()
    evil = build_wheel(copy / "wheels", "rt", "2.0", "VERSION = 'evil'\n").read_bytes()
    args = ("install", "--frozen") if frozen else ("install", "app2")
    with mirror_serve(copy) as url:
        done = cmpkg(place, place / "home", *args, "--offline", "--mirror", url)
    assert done.returncode == 1, done.stderr
    assert f"wheels/{wheel.name} does not match the mirror's manifest" in done.stderr
    assert "tampered or stale mirror" in done.stderr
    envs = place / "home" / "envs"
    assert not envs.exists() or not list(envs.iterdir())
    digests = {hashlib.sha256(p.read_bytes()).digest() for p in (place / "home").rglob("*.whl")}
    assert hashlib.sha256(evil).digest() not in digests  # no tampered byte was kept
