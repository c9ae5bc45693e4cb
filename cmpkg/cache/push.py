"""`cmpkg cache push`: store entries to a cache, signed, in parallel, only what it lacks.

Per entry: one HEAD of its tag and of its signature's tag; an entry already there and
signed is left alone. Otherwise the entry is checked against its manifest (never push an
edited entry), packed (cmpkg.cache.artifact), its blobs uploaded unless present (oras HEADs
each first), its manifest tagged with the store key, and the manifest's digest signed.
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from cmpkg.cache import artifact, signing
from cmpkg.cache.registry import UnreachableError
from cmpkg.cache.source import Source, open_source
from cmpkg.cache.url import CacheUrl
from cmpkg.errors import CmpkgError
from cmpkg.store import layout
from cmpkg.store.store import Store

#: Entries that describe this machine, not build output: never shared.
LOCAL_ONLY = frozenset({"detect", "user-path"})


@dataclass(frozen=True)
class PushResult:
    url: str
    pushed: tuple[str, ...]
    present: tuple[str, ...]  # already in the cache, signed by this key
    skipped: tuple[tuple[str, str], ...]  # (key, why)


def push(
    store: Store,
    keys: Sequence[str],
    url: CacheUrl,
    key: signing.SigningKey,
    *,
    jobs: int = 4,
    report: Callable[[str], None] = lambda _t: None,
) -> PushResult:
    if not url.writable:
        raise CmpkgError(
            "cache-read-only",
            f"{url.text} is a read-only cache",
            hint="push to oci://HOST/REPO or to a directory, and serve that over HTTP",
        )
    target = open_source(url)
    outcomes: dict[str, str] = {}

    def one(entry_key: str) -> None:
        outcomes[entry_key] = _push_one(store, target, entry_key, key, report)

    try:
        with ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="push") as pool:
            list(pool.map(one, sorted(set(keys))))
    except UnreachableError as error:
        raise CmpkgError(
            "cache-unreachable",
            f"cache {url.text} is unreachable ({error})",
            hint="check that the registry runs and the URL's host and port",
        ) from None
    return PushResult(
        url.text,
        tuple(k for k, v in sorted(outcomes.items()) if v == "pushed"),
        tuple(k for k, v in sorted(outcomes.items()) if v == "present"),
        tuple((k, v) for k, v in sorted(outcomes.items()) if v not in ("pushed", "present")),
    )


def _push_one(
    store: Store,
    target: Source,
    key: str,
    signer: signing.SigningKey,
    report: Callable[[str], None],
) -> str:
    entry = store.get(key)
    if entry is None:
        return "not in the store"
    if entry.meta.get("method") in LOCAL_ONLY:
        return f"{entry.meta.get('method')}: describes this machine"
    store.require_intact(entry)
    digest = target.has_manifest(key)
    if digest and target.has_manifest(artifact.signature_tag(digest)):
        return "present"
    label = str(entry.meta.get("package", key[:12]))
    report(f"push {label} to {target.url.text}")
    with tempfile.TemporaryDirectory(prefix="push-", dir=store.base) as work:
        packed = artifact.pack(key, entry.path, entry.metadata, _prefix(store), Path(work))
        manifest = packed.parsed
        _put(target, Path(work) / "config.json", packed.config, manifest["config"])
        _put_file(target, packed.layer, manifest["layers"][0])
        digest = target.put_manifest(key, packed.manifest)
        subject = {
            "mediaType": artifact.MANIFEST_TYPE,
            "digest": digest,
            "size": len(packed.manifest),
        }
        signature = signer.sign(signing.entry_message(key, digest))
        empty = artifact.descriptor(artifact.EMPTY_TYPE, artifact.EMPTY)
        _put(target, Path(work) / "empty.json", artifact.EMPTY, empty)
        sig = artifact.signature_manifest(key, subject, signature, signer.public)
        target.put_manifest(artifact.signature_tag(digest), sig)
    return "pushed"


def _put(target: Source, path: Path, data: bytes, descriptor: dict[str, object]) -> None:
    path.write_bytes(data)
    _put_file(target, path, descriptor)


_UPLOADING: dict[str, threading.Lock] = {}
_GUARD = threading.Lock()


def _put_file(target: Source, path: Path, descriptor: dict[str, object]) -> None:
    """Upload one blob, one upload per digest at a time: entries share blobs (the empty
    config of signatures, the layer of entries without files), and the distribution
    registry can answer "blob unknown" to a manifest whose blob another upload of the same
    digest is finishing."""
    with _GUARD:
        lock = _UPLOADING.setdefault(str(descriptor["digest"]), threading.Lock())
    with lock:
        target.put_blob(str(path), dict(descriptor))


def _prefix(store: Store) -> str:
    """The entries directory: every absolute store path an entry can hold starts with it."""
    return str(store.base / layout.ENTRIES)
