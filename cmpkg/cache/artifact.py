"""A store entry as an OCI artifact, and back. Pure but for the tar file it writes and reads.

    manifest (tagged <key>)    artifactType application/vnd.cmpkg.entry.v1
      config                   application/vnd.cmpkg.entry.config.v1+json: the entry's
                               metadata (package, version, variant, recipe digest,
                               dependency keys, build facts), its build-time prefix and the
                               files holding it (cmpkg.cache.relocate)
      layers[0]                application/vnd.oci.image.layer.v1.tar+zstd: the entry's files
                               (caches pushed before zstd hold tar+gzip, still read)
    signature (tagged sha256-<manifest hex>.sig, cosign's scheme, and `subject` for OCI 1.1
      referrers): annotations carry the ed25519 signature of the manifest digest and key

JSON is written canonically (sorted keys, no spaces), so equal entries give equal digests.
"""

from __future__ import annotations

import hashlib
import json
import os
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg.cache import relocate
from cmpkg.errors import CmpkgError
from cmpkg.store import layout

ARTIFACT_TYPE = "application/vnd.cmpkg.entry.v1"
CONFIG_TYPE = "application/vnd.cmpkg.entry.config.v1+json"
LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+zstd"
GZIP_LAYER_TYPE = "application/vnd.oci.image.layer.v1.tar+gzip"  # pushed before zstd; read
LAYER_TYPES = {LAYER_TYPE: ".tar.zst", GZIP_LAYER_TYPE: ".tar.gz"}  # -> download file suffix
#: zstd level 3 (its default): a venv layer packs ~3x faster than gzip -1 and decompresses
#: ~4x faster than gzip; single-threaded, so equal entries give byte-equal layers.
ZSTD_LEVEL = 3
SIGNATURE_TYPE = "application/vnd.cmpkg.signature.v1"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"
FORMAT = 1
MAX_CONFIG = 16 * 1024 * 1024  # a venv's wheel list is tens of KB; more is not ours


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def descriptor(
    media_type: str, data: bytes | None = None, path: Path | None = None
) -> dict[str, Any]:
    if path is not None:
        digest, size = _hash_file(path)
    else:
        assert data is not None
        digest, size = hashlib.sha256(data).hexdigest(), len(data)
    return {"mediaType": media_type, "digest": f"sha256:{digest}", "size": size}


def _hash_file(path: Path) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        while chunk := fh.read(1024 * 1024):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def signature_tag(manifest_digest: str) -> str:
    return manifest_digest.replace(":", "-") + ".sig"


@dataclass(frozen=True)
class Packed:
    key: str
    config: bytes
    layer: Path
    manifest: bytes

    @property
    def parsed(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.manifest)
        return value


def entry_config(
    key: str,
    metadata: Mapping[str, Any],
    prefix: str,
    found: relocate.Prefixed,
    links: Mapping[str, str],
) -> bytes:
    files = metadata.get("files", [])
    return canonical(
        {
            "cmpkg-cache": FORMAT,
            "key": key,
            "meta": metadata.get("meta", {}),
            "build": metadata.get("build", {}),
            "created": metadata.get("created", ""),
            "prefix": prefix,
            "relocate": {"text": list(found.text), "binary": list(found.binary)},
            "links": dict(sorted(links.items())),
            "files": len(files),
            "size": sum(int(f.get("size", 0)) for f in files),
        }
    )


def pack(key: str, root: Path, metadata: Mapping[str, Any], prefix: str, work: Path) -> Packed:
    """The artifact of the entry at `root` (its layer written under `work`)."""
    paths = [str(f["path"]) for f in metadata.get("files", [])]
    layer = work / f"{key}.tar.zst"
    links = write_layer(root, layer)
    config = entry_config(key, metadata, prefix, relocate.scan(root, paths, prefix), links)
    meta = metadata.get("meta", {})
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_TYPE,
        "artifactType": ARTIFACT_TYPE,
        "config": descriptor(CONFIG_TYPE, config),
        "layers": [
            {
                **descriptor(LAYER_TYPE, path=layer),
                "annotations": {"org.opencontainers.image.title": layer.name},
            }
        ],
        "annotations": {
            "dev.cmpkg.key": key,
            "dev.cmpkg.package": str(meta.get("package", "")),
            "org.opencontainers.image.created": str(metadata.get("created", "")),
        },
    }
    return Packed(key, config, layer, canonical(manifest))


def write_layer(root: Path, out: Path) -> dict[str, str]:
    """The entry's files as a zstd-compressed tar: sorted, owner-writable (the store freezes
    them again after the pull), mtimes kept (bytecode is checked against its source's mtime), owners
    dropped. cmpkg's own two files are left out: the pulling store writes its own.

    Symlinks with an absolute target (a venv's `bin/python` -> the base interpreter) are
    left out too and returned, {path: target}: safe extraction refuses them in any archive
    (RELIABILITY B.8), so the puller makes them itself, after the files, from the signed
    metadata (`cmpkg.cache.relocate.make_links`)."""
    import zstandard

    links: dict[str, str] = {}
    compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
    with (
        out.open("wb") as raw,
        compressor.stream_writer(raw, closefd=False) as packed,
        tarfile.open(fileobj=packed, mode="w|", format=tarfile.PAX_FORMAT) as tar,
    ):
        for directory, dirnames, filenames in os.walk(root):
            dirnames.sort()
            base = Path(directory)
            names = sorted(filenames + [d for d in dirnames if (base / d).is_symlink()])
            if base != root:
                tar.add(base, base.relative_to(root).as_posix(), recursive=False, filter=_clean)
            for name in names:
                rel = (base / name).relative_to(root).as_posix()
                link = base / name
                target = str(link.readlink()) if link.is_symlink() else ""
                if target.startswith("/"):
                    links[rel] = target
                elif rel not in layout.OWN:  # the store writes its own files again
                    tar.add(base / name, rel, recursive=False, filter=_clean)
    return links


def _clean(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    # Whole seconds: a float mtime needs a PAX header of its own for every member, which
    # made reading a venv's layer 1.6x slower (docs/benchmarks.md); bytecode compares its
    # source's mtime in whole seconds, and the puller stamps the files anew anyway.
    info.mtime = int(info.mtime)
    info.mode |= 0o700 if info.isdir() else 0o200
    return info


def signature_manifest(
    key: str, subject: Mapping[str, Any], signature: str, public_key: str
) -> bytes:
    empty = descriptor(EMPTY_TYPE, EMPTY)
    return canonical(
        {
            "schemaVersion": 2,
            "mediaType": MANIFEST_TYPE,
            "artifactType": SIGNATURE_TYPE,
            "config": empty,
            "layers": [empty],
            "subject": dict(subject),
            "annotations": {
                "dev.cmpkg.key": key,
                "dev.cmpkg.signature": signature,
                "dev.cmpkg.public-key": public_key,
            },
        }
    )


# ---------------------------------------------------------------------------- reading


def bad(url: str, key: str, why: str) -> CmpkgError:
    return CmpkgError(
        "cache-entry-invalid",
        f"{url}: entry {key[:12]} {why}",
        hint="the cache holds something cmpkg did not push; push the entry again",
    )


def parse_manifest(url: str, key: str, data: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config descriptor, layer descriptor) of an entry manifest, checked for shape."""
    try:
        manifest = json.loads(data)
        config, layers = manifest["config"], manifest["layers"]
        ok = (
            manifest.get("artifactType") == ARTIFACT_TYPE
            and config["mediaType"] == CONFIG_TYPE
            and len(layers) == 1
            and layers[0]["mediaType"] in LAYER_TYPES
        )
        for item in (config, layers[0]):
            ok = ok and str(item["digest"]).startswith("sha256:") and int(item["size"]) >= 0
    except (ValueError, KeyError, TypeError, IndexError):
        ok = False
    if not ok:
        raise bad(url, key, "has a manifest that is not a cmpkg entry")
    return config, layers[0]


def parse_config(url: str, key: str, data: bytes, want: Mapping[str, Any]) -> dict[str, Any]:
    if "sha256:" + hashlib.sha256(data).hexdigest() != want["digest"]:
        raise CmpkgError(
            "cache-entry-tampered",
            f"{url}: the metadata of entry {key[:12]} does not match its manifest's digest",
            hint="the registry's copy was changed; push the entry again from a trusted machine",
        )
    try:
        config: dict[str, Any] = json.loads(data)
    except ValueError:
        raise bad(url, key, "has unreadable metadata") from None
    if config.get("cmpkg-cache") != FORMAT or config.get("key") != key:
        raise bad(url, key, "has metadata of another entry or format")
    return config


def links(config: Mapping[str, Any]) -> dict[str, str]:
    found = config.get("links", {})
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def prefixed(config: Mapping[str, Any]) -> relocate.Prefixed:
    found = config.get("relocate", {})
    return relocate.Prefixed(tuple(found.get("text", ())), tuple(found.get("binary", ())))
