"""Offline mirrors: everything a lock needs in one directory, and using one.

Layout of a mirror (docs/mirror.md):

    mirror.json        the manifest, the root of trust: every file with sha256 and size,
                       the mirror's id and creation time
    cmpkg.lock         the lock the mirror was made for
    index/NN/...       a snapshot of the recipe index stack used (recipes, scripts, profiles)
    artifacts/NAME     every downloadable source of every locked package
    wheels/NAME.whl    every Python distribution of every locked target

A mirror is used from a directory or over HTTP (`cmpkg mirror serve`). Every file taken from
it is checked against the manifest (a mismatch is reported as a tampered or stale mirror),
and a mirror older than one already used from the same id is refused (rollback protection).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import shutil
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError, UsageError

MANIFEST = "mirror.json"
FORMAT = "cmpkg-mirror/1"
LOCK = "cmpkg.lock"


@dataclass(frozen=True)
class FileInfo:
    sha256: str
    size: int


@dataclass(frozen=True)
class Manifest:
    id: str
    created: str  # ISO 8601 UTC; compared for rollback protection
    files: dict[str, FileInfo]

    def to_json(self) -> dict[str, Any]:
        files = {p: {"sha256": f.sha256, "size": f.size} for p, f in sorted(self.files.items())}
        return {"format": FORMAT, "id": self.id, "created": self.created, "files": files}


def hash_file(path: Path) -> FileInfo:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return FileInfo(h.hexdigest(), path.stat().st_size)


def parse_manifest(data: Any, where: str) -> Manifest:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError("bad-mirror", f"{where}: not a cmpkg mirror manifest ({FORMAT})")
    try:
        files = {p: FileInfo(str(f["sha256"]), int(f["size"])) for p, f in data["files"].items()}
        return Manifest(str(data["id"]), str(data["created"]), files)
    except (KeyError, TypeError, ValueError, AttributeError) as error:
        raise UsageError("bad-mirror", f"{where}: malformed manifest ({error})") from None


# --- creating -----------------------------------------------------------------------------


def read_manifest(root: Path) -> Manifest | None:
    path = root / MANIFEST
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise UsageError("bad-mirror", f"{path}: unreadable manifest ({error})") from None
    return parse_manifest(data, str(path))


def snapshot_index(dirs: Iterable[Path], root: Path) -> None:
    """Copy the index stack into `root/index/NN` (replacing an older snapshot)."""
    target = root / "index"
    if target.exists():
        shutil.rmtree(target)
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")  # caches and tool state
    for i, directory in enumerate(dirs):
        shutil.copytree(directory, target / f"{i:02d}", ignore=skip)


def write_manifest(root: Path, previous: Manifest | None) -> Manifest:
    """Hash every file and write the manifest atomically, last: a mirror whose creation was
    interrupted has the old manifest (or none), never a manifest of half the files."""
    files = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_file() and rel != MANIFEST and not rel.startswith("."):
            files[rel] = hash_file(path)
    created = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds")
    manifest = Manifest(previous.id if previous else uuid.uuid4().hex, created, files)
    atomic.write_text(
        root / MANIFEST, json.dumps(manifest.to_json(), indent=1, sort_keys=True) + "\n"
    )
    return manifest


def verify(root: Path) -> list[str]:
    """Every file that differs from the manifest, is missing, or is not listed."""
    manifest = read_manifest(root)
    if manifest is None:
        return [f"{root / MANIFEST}: missing"]
    problems = []
    for rel, info in sorted(manifest.files.items()):
        path = root / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif hash_file(path) != info:
            problems.append(f"{rel}: sha256 differs from the manifest (tampered or stale mirror)")
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if (
            path.is_file()
            and rel != MANIFEST
            and not rel.startswith(".")
            and rel not in manifest.files
        ):
            problems.append(f"{rel}: not in the manifest")
    return problems


# --- using ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mirror:
    """An opened, verified mirror: where its index, artifacts and wheels are."""

    location: str  # the directory or URL the user gave
    local: Path  # the directory holding its verified index (a cache for URL mirrors)
    manifest: Manifest

    @property
    def is_remote(self) -> bool:
        return self.location.startswith(("http://", "https://"))

    def index_dirs(self) -> list[Path]:
        base = self.local / "index"
        return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def artifact_urls(self, filename: str) -> tuple[str, ...]:
        rel = f"artifacts/{filename}"
        if rel not in self.manifest.files:
            return ()
        if self.is_remote:
            return (f"{self.location.rstrip('/')}/{rel}",)
        return ((self.local / rel).as_uri(),)

    def wheel_links(self) -> tuple[str, ...]:
        if self.is_remote:
            return (f"{self.location.rstrip('/')}/wheels/",)
        return (str(self.local / "wheels"),)

    def lock_path(self) -> Path:
        return self.local / LOCK


def open_mirror(location: str, home: Path, *, force: bool = False) -> Mirror:
    """Open a mirror: read its manifest, refuse a rollback, verify its index and wheels."""
    if location.startswith(("http://", "https://")):
        mirror = _open_remote(location, home)
    else:
        root = Path(location).expanduser().resolve()
        manifest = read_manifest(root)
        if manifest is None:
            raise UsageError("bad-mirror", f"{root} is not a cmpkg mirror (no {MANIFEST})")
        mirror = Mirror(location, root, manifest)
        _check_files(mirror, root, [p for p in manifest.files if not p.startswith("artifacts/")])
    _check_rollback(mirror.manifest, home, force)
    return mirror


def _check_files(mirror: Mirror, root: Path, paths: Iterable[str]) -> None:
    for rel in paths:
        path = root / rel
        if not path.is_file() or hash_file(path) != mirror.manifest.files[rel]:
            raise CmpkgError(
                "tampered-mirror",
                f"{mirror.location}: {rel} does not match the mirror's manifest",
                hint="the mirror is tampered or stale; re-create it or run `cmpkg mirror verify`",
            )


def _open_remote(url: str, home: Path) -> Mirror:
    """Download the manifest and the index/lock files of an HTTP mirror into a local cache,
    verifying each against the manifest; artifacts and wheels are fetched when needed."""
    import requests

    base = url.rstrip("/")
    try:
        data = requests.get(f"{base}/{MANIFEST}", timeout=30).json()
    except (requests.RequestException, ValueError) as error:
        raise CmpkgError("mirror-unreachable", f"cannot read {base}/{MANIFEST}: {error}") from None
    manifest = parse_manifest(data, f"{base}/{MANIFEST}")
    cache = home / "mirrors" / manifest.id
    shutil.rmtree(cache, ignore_errors=True)
    wanted = [p for p in manifest.files if p.startswith("index/") or p == LOCK]
    for rel in wanted:
        target = cache / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        response = requests.get(f"{base}/{rel}", timeout=30)
        target.write_bytes(response.content[: manifest.files[rel].size + 1])
    mirror = Mirror(url, cache, manifest)
    _check_files(mirror, cache, wanted)
    return mirror


def _check_rollback(manifest: Manifest, home: Path, force: bool) -> None:
    """Refuse a mirror older than the newest one seen with the same id (RELIABILITY A.5)."""
    seen_file = home / "mirrors-seen.json"
    try:
        seen = json.loads(seen_file.read_text())
    except (OSError, ValueError):
        seen = {}
    newest = seen.get(manifest.id)
    if newest and manifest.created < newest and not force:
        raise CmpkgError(
            "mirror-rollback",
            f"this mirror ({manifest.created}) is older than one already used ({newest})",
            hint="a rollback can re-introduce fixed files; pass --force-mirror if it is intended",
        )
    if not newest or manifest.created > newest:
        seen[manifest.id] = manifest.created
        atomic.write_text(seen_file, json.dumps(seen, indent=1, sort_keys=True))


# --- populating ---------------------------------------------------------------------------


def add_artifacts(root: Path, sources: Iterable[Any], downloads: Path, offline: bool) -> int:
    """Copy every locked source into `artifacts/` (fetched and verified); skip present ones."""
    from cmpkg import fetch

    added = 0
    for source in sources:
        target = root / "artifacts" / source.filename
        if target.is_file() and hash_file(target).sha256 == source.sha256:
            continue
        artifact = fetch.Artifact(
            source.filename, tuple(source.urls), source.filename, source.sha256, source.size
        )
        got = fetch.fetch(artifact, downloads, offline=offline)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(got.path, target)
        added += 1
    return added


def add_wheels(root: Path, target: Any, source: Any) -> int:
    """Download a locked target's distributions into `wheels/` and check their sha256."""
    import sys

    from cmpkg.process import run_or_raise
    from cmpkg.wheels import pip_source_args, target_args

    directory = root / "wheels"
    directory.mkdir(parents=True, exist_ok=True)
    wanted = {w.url.rsplit("/", 1)[-1]: w for w in target.wheels}
    missing = [w for name, w in wanted.items() if not _has(directory / name, w.sha256)]
    if missing:
        python = ".".join(target.python.split(".")[:2])
        argv = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--quiet",
            "--disable-pip-version-check",
        ]
        argv += [
            "-d",
            str(directory),
            *target_args(python, target.platform),
            *pip_source_args(source, ()),
        ]
        argv += [f"{w.name}=={w.version}" for w in missing]
        run_or_raise(
            argv, "mirror-wheels-failed", f"pip could not download the wheels of {target.name}"
        )
    for name, wheel in wanted.items():
        if not _has(directory / name, wheel.sha256):
            raise CmpkgError(
                "mirror-hash-mismatch",
                f"{name}: the downloaded file does not match the lock's sha256",
            )
    return len(missing)


def _has(path: Path, sha256: str) -> bool:
    return path.is_file() and hash_file(path).sha256 == sha256
