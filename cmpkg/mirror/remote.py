"""An HTTP mirror (`cmpkg mirror serve`, or any static server): download, cap, verify, cache.

Opening one downloads its manifest (capped at `MAX_MANIFEST_BYTES` while streaming),
validates it, and fills a cache directory `$CMPKG_HOME/mirrors/ID-DIGEST/` (DIGEST: of the
manifest's bytes, so one cache directory only ever holds one version of one mirror) with its
lock and index snapshot, each capped at its declared size and checked against its sha256.
The cache is assembled in a staging directory and renamed into place, so a reader never sees
half of it. Wheels are fetched into the same cache, verified, only when pip needs them.

Must not: write anywhere but under `$CMPKG_HOME/mirrors/`, keep a byte that does not match
the manifest, or let pip talk to the server.
"""

from __future__ import annotations

import contextlib
import hashlib
import shutil
import urllib.parse
import uuid
from pathlib import Path

import requests

from cmpkg import fetch
from cmpkg.errors import CmpkgError
from cmpkg.fetch.metadata import MetadataTooLargeError, get_capped
from cmpkg.mirror.manifest import MANIFEST, MAX_MANIFEST_BYTES, decode, hash_file
from cmpkg.mirror.opened import Mirror, check_files, tampered
from cmpkg.paths import check_part, safe_join

CACHE = "mirrors"


def open_remote(url: str, home: Path) -> Mirror:
    base = url.rstrip("/")
    with fetch.new_session() as session:
        data = get_capped(session, f"{base}/{MANIFEST}", MAX_MANIFEST_BYTES)
        manifest = decode(data, f"{base}/{MANIFEST}")
        name = f"{manifest.id}-{hashlib.sha256(data).hexdigest()[:32]}"
        cache = safe_join(home / CACHE, check_part(name, "mirror id"), "mirror id")
        mirror = Mirror(url, cache, manifest)
        if not _complete(mirror):
            _download_metadata(session, mirror)
    check_files(mirror, manifest.metadata())
    return mirror


def _complete(mirror: Mirror) -> bool:
    try:
        check_files(mirror, mirror.manifest.metadata())
    except CmpkgError:
        return False
    return True


def _download_metadata(session: requests.Session, mirror: Mirror) -> None:
    """Fill a staging directory with the verified lock and index, then rename it into place."""
    cache = mirror.local
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = cache.parent / f".staging-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        for rel in mirror.manifest.metadata():
            target = safe_join(staging, rel, f"{mirror.location}: {MANIFEST}")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(_download_one(session, mirror, rel))
        _install_cache(staging, cache)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _download_one(session: requests.Session, mirror: Mirror, rel: str) -> bytes:
    info = mirror.manifest.files[rel]
    url = f"{mirror.base_url}/{urllib.parse.quote(rel)}"
    try:
        data = get_capped(session, url, info.size)
    except MetadataTooLargeError:
        raise tampered(mirror, rel, f"is longer than the manifest's {info.size} bytes") from None
    if len(data) != info.size or hashlib.sha256(data).hexdigest() != info.sha256:
        raise tampered(mirror, rel)
    return data


def _install_cache(staging: Path, cache: Path) -> None:
    """Rename `staging` onto `cache`; an incomplete old `cache` (its checks failed) goes first."""
    if cache.exists():
        old = cache.parent / f".old-{uuid.uuid4().hex}"
        with contextlib.suppress(FileNotFoundError):
            cache.rename(old)
            shutil.rmtree(old, ignore_errors=True)
    try:
        staging.rename(cache)
    except OSError:
        if not cache.is_dir():  # else another process installed the same version first
            raise


def fetch_wheels(mirror: Mirror) -> None:
    """Every wheel of the manifest into `mirror.local/wheels/`, each checked before it lands."""
    directory = mirror.local / "wheels"
    directory.mkdir(parents=True, exist_ok=True)
    downloads = mirror.local / ".downloads"
    for rel in mirror.manifest.wheels():
        info = mirror.manifest.files[rel]
        target = safe_join(mirror.local, rel, f"{mirror.location}: {MANIFEST}")
        if target.is_file() and hash_file(target) == info:
            continue
        name = rel.partition("/")[2]
        url = f"{mirror.base_url}/{urllib.parse.quote(rel)}"
        artifact = fetch.Artifact(
            f"{name} from {mirror.location}", (url,), name, info.sha256, info.size
        )
        try:
            got = fetch.fetch(artifact, downloads)
        except CmpkgError as error:
            if error.code == "hash-mismatch":
                raise tampered(mirror, rel) from None
            raise
        got.path.replace(target)
