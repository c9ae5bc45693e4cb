"""Pushes and pulls that are cut off: through a fault-injecting proxy (tests/cache/proxy.py)
in front of the real registry. A lost answer to a blob upload is asked about, never
repeated (repeating the PUT on a consumed session was the "blob unknown" push failure
under load); a cut chunked upload continues where the registry says it stands; a push
killed part-way uploads on rerun only what the registry lacks; a pull killed mid-layer
resumes its download with Range."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from cmpkg.cache import artifact, parse_url
from cmpkg.cache.credentials import Credentials
from cmpkg.cache.registry import Registry
from tests.cache import proxy
from tests.cache.conftest import cmpkg, push, trusting
from tests.support.registry import RunningRegistry

pytestmark = pytest.mark.slow


def _blob(tmp_path: Path, size: int) -> tuple[Path, dict[str, object]]:
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(size))
    return path, artifact.descriptor(artifact.LAYER_TYPE, path=path)


def _completing(seen: proxy.Seen) -> bool:
    return seen.method == "PUT" and "digest=" in seen.path


def test_a_lost_answer_to_the_completing_put_is_asked_about_not_repeated(
    tmp_path: Path, own_registry: RunningRegistry
) -> None:
    lost: list[str] = []

    def rule(seen: proxy.Seen) -> proxy.Fault:
        if _completing(seen) and not lost:
            lost.append(seen.path)
            return proxy.Fault("lose-answer")
        return proxy.Fault()

    with proxy.running(own_registry.host, rule) as front:
        registry = Registry(parse_url(front.url("lost")), Credentials())
        path, descriptor = _blob(tmp_path, 100_000)
        registry.put_blob(str(path), descriptor)  # a repeated PUT: 404 BLOB_UPLOAD_UNKNOWN
        assert lost and registry.has_blob(str(descriptor["digest"]))
    assert [s.path for s in front.log if _completing(s)] == lost  # one PUT, never repeated


def test_a_chunked_upload_cut_mid_way_starts_a_new_session_instead_of_repeating_a_patch(
    tmp_path: Path, own_registry: RunningRegistry
) -> None:
    from cmpkg.cache.upload import upload

    patches: list[proxy.Seen] = []

    def rule(seen: proxy.Seen) -> proxy.Fault:
        if seen.method == "PATCH":
            patches.append(seen)
            if len(patches) == 2:
                return proxy.Fault("lose-answer")
        return proxy.Fault()

    with proxy.running(own_registry.host, rule) as front:
        registry = Registry(parse_url(front.url("chunks")), Credentials())
        path, descriptor = _blob(tmp_path, 1_000_000)
        digest = str(descriptor["digest"])
        assert upload(registry, path, digest, 1_000_000, chunk=256 * 1024) == "uploaded"
        assert registry.blob(digest, 2_000_000) == path.read_bytes()
    ranges = [p.headers["Content-Range"] for p in patches]
    chunks = ["0-262143", "262144-524287", "524288-786431", "786432-999999"]
    assert ranges == chunks[:2] + chunks  # the cut session is left, a new one completes
    sessions = [p.path.partition("?")[0] for p in patches]
    assert sessions[1] != sessions[2] and len(set(sessions[2:])) == 1


def _uploaded(log: list[proxy.Seen]) -> list[str]:
    return [s.path.partition("digest=")[2] for s in log if _completing(s)]


def test_a_push_cut_part_way_uploads_on_rerun_only_what_the_registry_lacks(
    own_registry: RunningRegistry, builder: tuple[Path, str]
) -> None:
    built, _public = builder
    forwarded: list[proxy.Seen] = []
    guard = threading.Lock()

    def cut_after_three_blobs(seen: proxy.Seen) -> proxy.Fault:
        with guard:  # entries are pushed in parallel
            if len(forwarded) >= 3:
                return proxy.Fault("refuse")
            forwarded.extend([seen] if _completing(seen) else [])
            return proxy.Fault()

    with proxy.running(own_registry.host, cut_after_three_blobs) as first:
        cut = push(built, first.url("resume"))
    assert cut.returncode == 1 and "[cache-unreachable]" in cut.stderr, cut.stderr
    with proxy.running(own_registry.host) as second:
        again = push(built, second.url("resume"))
    assert again.returncode == 0, again.stderr
    before, after = _uploaded(forwarded), _uploaded(second.log)
    assert len(before) == 3 and not set(before) & set(after)  # nothing uploaded twice
    with proxy.running(own_registry.host) as third:
        done = push(built, third.url("resume"))
    assert json.loads(done.stdout)["pushed"] == [] and _uploaded(third.log) == []
    assert {s.method for s in third.log} == {"HEAD"}  # finished entries: asked, not re-sent


def test_a_pull_killed_mid_layer_resumes_its_download(
    tmp_path: Path, own_registry: RunningRegistry, builder: tuple[Path, str]
) -> None:
    built, public = builder
    assert push(built, own_registry.url("pull")).returncode == 0
    record = json.loads((built / "envs" / "app.json").read_text())
    key = Path(record["packages"]["python-env"]["path"]).name
    home, config = tmp_path / "b" / "home", trusting(tmp_path / "config.toml", public)
    found = Registry(parse_url(own_registry.url("pull")), Credentials()).manifest(key)
    assert found is not None
    half = int(json.loads(found[0])["layers"][0]["size"]) // 2
    layers: list[proxy.Seen] = []

    def hold_the_layer(seen: proxy.Seen) -> proxy.Fault:
        if seen.method == "GET" and "/blobs/sha256:" in seen.path and not layers:
            layers.append(seen)  # the metadata blob is fetched first: let it through
            return proxy.Fault()
        if seen.method == "GET" and "/blobs/sha256:" in seen.path and len(layers) == 1:
            layers.append(seen)
            return proxy.Fault("hold-body", after=half)
        return proxy.Fault()

    env = {**os.environ, "CMPKG_HOME": str(home), "CMPKG_CONFIG": str(config), "NO_COLOR": "1"}
    with proxy.running(own_registry.host, hold_the_layer) as first:
        argv = [sys.executable, "-m", "cmpkg", "cache", "pull", key, "--from", first.url("pull")]
        with subprocess.Popen(argv, env=env, stderr=subprocess.PIPE) as pulling:
            assert first.held.wait(120), "the layer download never started"
            partials = home / "store-v1" / "downloads"
            _wait_for(lambda: any(p.stat().st_size >= half for p in partials.rglob("*.partial")))
            pulling.kill()
    assert not (home / "store-v1" / "entries" / key).exists()

    with proxy.running(own_registry.host) as second:
        done = cmpkg(home, "cache", "pull", key, "--from", second.url("pull"), config=config)
    assert done.returncode == 0, done.stderr
    ranges = [s.headers.get("Range", "") for s in second.log if s.method == "GET"]
    assert f"bytes={half}-" in ranges, ranges  # resumed where the killed pull stopped
    verified = cmpkg(home, "cache", "verify", key, "--json")
    assert verified.returncode == 0, verified.stdout


def _wait_for(condition: object) -> None:
    """Until `condition()` holds: the bytes reach the file when the client writes them."""
    import time

    assert callable(condition)
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.02)
