"""A mirror's manifest `mirror.json`: its values, its validation, reading and writing.

The manifest is the root of trust of a mirror: every other file is checked against it, so it
is validated before anything it names is looked at. `parse_manifest` refuses (collecting every
problem) an id that is not a plain slug, a file key that is not a safe relative path under
one of the four known places (`cmpkg.lock`, `index/...`, `artifacts/NAME`, `wheels/NAME`), a
malformed hash or size, metadata files (lock and index) over their size caps, and times that
are not ISO 8601 with a time zone.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import UsageError
from cmpkg.fetch.metadata import MIB, read_capped
from cmpkg.paths import part_problem, path_problem

MANIFEST = "mirror.json"
FORMAT = "cmpkg-mirror/1"
LOCK = "cmpkg.lock"

# Caps on metadata (RELIABILITY A.6): far above any real mirror (the whole shipped index is
# 230 KiB, a lock a few hundred KiB, a manifest ~150 bytes per file), far below harm.
MAX_MANIFEST_BYTES = 32 * MIB
MAX_LOCK_BYTES = 16 * MIB
MAX_INDEX_FILE_BYTES = 8 * MIB
MAX_INDEX_BYTES = 256 * MIB

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class FileInfo:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    id: str  # a slug (uuid4 hex when cmpkg made it): names the mirror, never a path by itself
    created: datetime.datetime  # aware, UTC; compared for rollback protection
    expires: datetime.datetime | None  # aware; None only in mirrors made before expiry existed
    files: Mapping[str, FileInfo]
    #: (public key `NAME:BASE64`, base64 ed25519 signature) of `signed_bytes()`; None: unsigned
    signature: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        files = {p: {"sha256": f.sha256, "size": f.size} for p, f in sorted(self.files.items())}
        data: dict[str, Any] = {"format": FORMAT, "id": self.id, "created": stamp(self.created)}
        if self.expires is not None:
            data["expires"] = stamp(self.expires)
        if self.signature is not None:
            data["signature"] = {"key": self.signature[0], "value": self.signature[1]}
        return {**data, "files": files}

    def signed_bytes(self) -> bytes:
        """What a signature covers: every field but the signature, as canonical JSON (so a
        forged `created`, another `id` or one changed file hash breaks it)."""
        data = {k: v for k, v in self.to_json().items() if k != "signature"}
        return json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    def metadata(self) -> list[str]:
        """The files opening the mirror needs: its lock and its index snapshot."""
        return sorted(p for p in self.files if p == LOCK or p.startswith("index/"))

    def wheels(self) -> list[str]:
        return sorted(p for p in self.files if p.startswith("wheels/"))


def stamp(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")


def hash_file(path: Path) -> FileInfo:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return FileInfo(h.hexdigest(), path.stat().st_size)


# --- validating -------------------------------------------------------------------------------


BROKEN_HINT = "the mirror is tampered or broken; re-create it with `cmpkg mirror create`"


def parse_manifest(data: Any, where: str) -> Manifest:
    """A validated manifest, or UsageError listing every problem (nothing is looked at first)."""
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError(
            "bad-mirror", f"{where}: not a cmpkg mirror manifest ({FORMAT})", hint=BROKEN_HINT
        )
    problems: list[str] = []
    ident = data.get("id")
    if not isinstance(ident, str) or not _ID.match(ident):
        problems.append(f"id: {ident!r} is not a plain slug (lowercase letters, digits, - _)")
    created = _time(data, "created", problems, required=True)
    expires = _time(data, "expires", problems, required=False)
    if created and expires and expires <= created:
        problems.append("expires: not after created")
    files = _files(data.get("files"), problems)
    signature = _signature(data.get("signature"), problems)
    unknown = sorted(set(data) - {"format", "id", "created", "expires", "files", "signature"})
    problems += [f"{key}: unknown key" for key in unknown]
    if problems or created is None:
        raise UsageError(
            "bad-mirror",
            f"{where}: invalid mirror manifest; nothing was taken from it",
            details=problems,
            hint=BROKEN_HINT,
        )
    return Manifest(str(ident), created, expires, files, signature)


def _signature(raw: Any, problems: list[str]) -> tuple[str, str] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) != {"key", "value"}:
        problems.append("signature: needs exactly key and value")
        return None
    key, value = raw["key"], raw["value"]
    if not isinstance(key, str) or not isinstance(value, str) or len(value) > 200:
        problems.append("signature: key and value must be short strings")
        return None
    return key, value


def _time(
    data: dict[str, Any], key: str, problems: list[str], *, required: bool
) -> datetime.datetime | None:
    value = data.get(key)
    if value is None and not required:
        return None
    try:
        moment = datetime.datetime.fromisoformat(str(value)) if isinstance(value, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        problems.append(f"{key}: {value!r} is not an ISO 8601 time with a time zone")
        return None
    return moment.astimezone(datetime.timezone.utc)


def _files(raw: Any, problems: list[str]) -> dict[str, FileInfo]:
    if not isinstance(raw, dict):
        problems.append("files: not a table")
        return {}
    files: dict[str, FileInfo] = {}
    folded: dict[str, str] = {}
    for key, value in raw.items():
        problem = key_problem(key) or _info_problem(key, value)
        if problem is None and key.casefold() in folded:
            problem = f"differs from {folded[key.casefold()]!r} only by case"
        if problem is not None:
            problems.append(f"files: {key!r} {problem}")
            continue
        folded[key.casefold()] = key
        files[key] = FileInfo(value["sha256"], value["size"])
    index_total = sum(f.size for p, f in files.items() if p.startswith("index/"))
    if index_total > MAX_INDEX_BYTES:
        problems.append(f"files: the index snapshot is over {MAX_INDEX_BYTES // MIB} MiB")
    return files


def key_problem(key: object) -> str | None:
    """Why a manifest file key cannot name a file of a mirror, or None."""
    if not isinstance(key, str):
        return "is not a string"
    problem = path_problem(key)
    if problem is not None:
        return problem
    top, _, rest = key.partition("/")
    if key == LOCK or (top == "index" and "/" in rest):
        return None
    if top in ("artifacts", "wheels") and "/" not in rest and part_problem(rest) is None:
        return None  # flat: one plain file name (pip's --find-links reads one directory)
    return "is not cmpkg.lock, index/NN/..., artifacts/NAME or wheels/NAME"


def _info_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, dict) or set(value) != {"sha256", "size"}:
        return "needs exactly sha256 and size"
    sha, size = value["sha256"], value["size"]
    if not isinstance(sha, str) or not _SHA256.match(sha):
        return "sha256 is not 64 lowercase hex digits"
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return "size is not a non-negative integer"
    cap = MAX_LOCK_BYTES if key == LOCK else MAX_INDEX_FILE_BYTES
    if (key == LOCK or key.startswith("index/")) and size > cap:
        return f"declares {size} bytes, over the {cap // MIB} MiB cap for metadata"
    return None


# --- reading and writing ----------------------------------------------------------------------


def decode(data: bytes, where: str) -> Manifest:
    try:
        raw = json.loads(data)
    except (ValueError, UnicodeDecodeError) as error:
        raise UsageError(
            "bad-mirror", f"{where}: unreadable manifest ({error})", hint=BROKEN_HINT
        ) from None
    return parse_manifest(raw, where)


def read_manifest(root: Path) -> Manifest | None:
    """The validated manifest of the mirror directory `root`; None when it has none."""
    path = root / MANIFEST
    try:
        data = read_capped(path, MAX_MANIFEST_BYTES)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise UsageError(
            "bad-mirror", f"{path}: unreadable manifest ({error})", hint=BROKEN_HINT
        ) from None
    return decode(data, str(path))


def write_manifest(root: Path, manifest: Manifest) -> None:
    """Atomically, so an interrupted `mirror create` leaves the old manifest (or none)."""
    text = json.dumps(manifest.to_json(), indent=1, sort_keys=True) + "\n"
    atomic.write_text(root / MANIFEST, text)


def scan(root: Path) -> dict[str, FileInfo]:
    """Every file of a mirror directory with its hash (the manifest and dot files excepted)."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith("."):
            files[rel] = hash_file(path)
    return files
