"""Using a mirror: open it (a directory or an HTTP URL), verify it, and say where things are.

Whatever the mirror's kind, what cmpkg uses from it has been checked against its manifest
first: the lock and the index snapshot when it is opened, the wheels before pip sees them
(pip is only ever given a local directory of verified wheels), and the artifacts by the
fetcher against the lock's sha256. Every name the manifest gives becomes a path through
`cmpkg.paths.safe_join`.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import CmpkgError, UsageError
from cmpkg.mirror.freshness import check_freshness
from cmpkg.mirror.manifest import LOCK, MANIFEST, Manifest, hash_file, read_manifest
from cmpkg.paths import check_part, safe_join


@dataclass(frozen=True)
class Mirror:
    """An opened, verified mirror: where its index, lock, artifacts and wheels are."""

    location: str  # the directory or URL the user gave
    local: Path  # the directory holding its verified index and lock (a cache for URLs)
    manifest: Manifest
    warnings: tuple[str, ...] = ()  # what --force-mirror let through

    @property
    def is_remote(self) -> bool:
        return is_url(self.location)

    @property
    def base_url(self) -> str:
        return self.location.rstrip("/")

    def index_dirs(self) -> list[Path]:
        base = self.local / "index"
        return sorted(p for p in base.iterdir() if p.is_dir()) if base.is_dir() else []

    def artifact_urls(self, filename: str) -> tuple[str, ...]:
        """Where the mirror keeps `filename`, listed in its manifest or not.

        Artifacts are checked by the fetcher against the lock's (or recipe's) sha256, which
        is stronger than the manifest, and a miss is then named among the places looked at
        (RELIABILITY E27) instead of the mirror silently not being asked.
        """
        rel = f"artifacts/{check_part(filename, 'artifact filename')}"
        if self.is_remote:
            return (f"{self.base_url}/{urllib.parse.quote(rel)}",)
        return (safe_join(self.local, rel, self.location).as_uri(),)

    def wheel_links(self) -> tuple[str, ...]:
        """A local directory of wheels checked against the manifest, for pip's --find-links.

        An HTTP mirror's wheels are downloaded into its cache and verified first: pip is never
        pointed at the server, so it cannot install bytes the manifest does not vouch for.
        """
        if self.is_remote:
            from cmpkg.mirror.remote import fetch_wheels

            fetch_wheels(self)
        return (str(self.local / "wheels"),)

    def lock_path(self) -> Path:
        return self.local / LOCK


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def open_mirror(location: str, home: Path, *, force: bool = False) -> Mirror:
    """Open a mirror: validate its manifest, check its freshness, verify its index and lock."""
    if is_url(location):
        from cmpkg.mirror.remote import open_remote

        mirror = open_remote(location, home)
    else:
        mirror = _open_local(location)
    from cmpkg.mirror.signature import check

    check(mirror.manifest, location, home, Path.cwd())  # before freshness records anything
    warnings = check_freshness(mirror.manifest, home, force)
    if warnings:
        from cmpkg import console

        for text in warnings:
            console.message("warning", f"{text} (used because of --force-mirror)")
    return Mirror(mirror.location, mirror.local, mirror.manifest, tuple(warnings))


def _open_local(location: str) -> Mirror:
    root = Path(location).expanduser().resolve()
    manifest = read_manifest(root)
    if manifest is None:
        raise UsageError(
            "bad-mirror",
            f"{root} is not a cmpkg mirror (no {MANIFEST})",
            hint="make one with `cmpkg mirror create DIR`",
        )
    mirror = Mirror(location, root, manifest)
    check_files(mirror, [*manifest.metadata(), *manifest.wheels()])
    _check_no_extra_wheels(mirror)
    return mirror


def check_files(mirror: Mirror, paths: Iterable[str]) -> None:
    """Every one of `paths` is in `mirror.local` with the manifest's size and sha256."""
    for rel in paths:
        path = safe_join(mirror.local, rel, f"{mirror.location}: {MANIFEST}")
        if not path.is_file() or hash_file(path) != mirror.manifest.files[rel]:
            raise tampered(mirror, rel)


def _check_no_extra_wheels(mirror: Mirror) -> None:
    # pip picks any wheel in the directory it is given: an unlisted one must not be there.
    directory = mirror.local / "wheels"
    listed = set(mirror.manifest.wheels())
    extra = sorted(f"wheels/{p.name}" for p in (directory.iterdir() if directory.is_dir() else ()))
    unlisted = [rel for rel in extra if rel not in listed]
    if unlisted:
        raise CmpkgError(
            "tampered-mirror",
            f"{mirror.location}: {unlisted[0]} is not in the mirror's manifest "
            "(tampered or stale mirror)",
            hint="remove it, or re-create the mirror; `cmpkg mirror verify` lists every problem",
        )


def tampered(
    mirror: Mirror, rel: str, why: str = "does not match the mirror's manifest"
) -> CmpkgError:
    return CmpkgError(
        "tampered-mirror",
        f"{mirror.location}: {rel} {why} (tampered or stale mirror)",
        hint="nothing was installed from it; re-create the mirror or run `cmpkg mirror verify`",
    )
