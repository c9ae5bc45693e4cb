"""A cache as an OCI image layout (`oci-layout`, `index.json`, `blobs/sha256/<hex>`): a
directory (`file://`, read and written) or the same tree on any web server (`https://`,
read-only). Tags are the `org.opencontainers.image.ref.name` annotations of `index.json`.

The layout is the OCI standard for registries on disk, so `oras copy --from-oci-layout`
moves such a cache into a registry and back.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from pathlib import Path
from typing import Any

import requests

from cmpkg import atomic
from cmpkg.cache.url import CacheUrl
from cmpkg.store.locks import os_lock

REF = "org.opencontainers.image.ref.name"
INDEX_TYPE = "application/vnd.oci.image.index.v1+json"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
MAX_INDEX = 256 * 1024 * 1024


class Layout:
    def __init__(self, url: CacheUrl) -> None:
        self.url = url
        self.session: requests.Session | None = None
        self._index: dict[str, Any] | None = None
        self._lock = threading.Lock()
        if url.scheme != "file":
            from cmpkg.fetch import new_session

            self.session = new_session()

    # ---------------------------------------------------------------- reading

    def blob_url(self, digest: str) -> str:
        hexdigest = digest.split(":", 1)[1]
        if self.url.path is not None:
            return str(self.url.path / "blobs" / "sha256" / hexdigest)
        return f"{self.url.text}/blobs/sha256/{hexdigest}"

    def blob(self, digest: str, limit: int) -> bytes:
        if self.url.path is not None:
            path = Path(self.blob_url(digest))
            if not path.is_file():
                raise FileNotFoundError(digest)
            if path.stat().st_size > limit:
                raise ValueError(f"{digest} is larger than {limit} bytes")
            return path.read_bytes()
        from cmpkg.fetch.metadata import get_capped

        assert self.session is not None
        return get_capped(self.session, self.blob_url(digest), limit)

    def _read_index(self) -> dict[str, Any]:
        with self._lock:  # one read of a remote index per install
            if self._index is None:
                if self.url.path is not None:
                    path = self.url.path / "index.json"
                    text = path.read_bytes() if path.is_file() else b'{"manifests": []}'
                else:
                    from cmpkg.fetch.metadata import get_capped

                    assert self.session is not None
                    text = get_capped(self.session, f"{self.url.text}/index.json", MAX_INDEX)
                self._index = json.loads(text)
            return self._index

    def _find(self, ref: str) -> dict[str, Any] | None:
        for item in self._read_index().get("manifests", []):
            if item.get("annotations", {}).get(REF) == ref:
                found: dict[str, Any] = item
                return found
        return None

    def manifest(self, ref: str) -> tuple[bytes, str] | None:
        found = self._find(ref)
        if found is None:
            return None
        data = self.blob(str(found["digest"]), 4 * 1024 * 1024)
        return data, "sha256:" + hashlib.sha256(data).hexdigest()

    def has_manifest(self, ref: str) -> str | None:
        found = self._find(ref)
        return str(found["digest"]) if found else None

    # ---------------------------------------------------------------- writing (file://)

    def has_blob(self, digest: str) -> bool:
        return Path(self.blob_url(digest)).is_file()

    def put_blob(self, path: str, descriptor: dict[str, Any]) -> None:
        target = Path(self.blob_url(str(descriptor["digest"])))
        if target.is_file():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        partial.replace(target)

    def put_manifest(self, ref: str, data: bytes) -> str:
        assert self.url.path is not None
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        blob = Path(self.blob_url(digest))
        blob.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_bytes(blob, data)
        with os_lock(self.url.path / ".index.lock"):  # pushers of one layout take turns
            with self._lock:
                self._index = None
            index = self._read_index()
            kept = [
                m for m in index.get("manifests", []) if m.get("annotations", {}).get(REF) != ref
            ]
            item = {
                "mediaType": MANIFEST_TYPE,
                "digest": digest,
                "size": len(data),
                "annotations": {REF: ref},
            }
            index = {"schemaVersion": 2, "mediaType": INDEX_TYPE, "manifests": [*kept, item]}
            atomic.write_text(self.url.path / "oci-layout", '{"imageLayoutVersion":"1.0.0"}\n')
            atomic.write_text(
                self.url.path / "index.json", json.dumps(index, indent=1, sort_keys=True) + "\n"
            )
            with self._lock:
                self._index = index
        return digest
