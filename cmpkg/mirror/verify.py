"""`cmpkg mirror verify`: every difference between a mirror directory and its manifest."""

from __future__ import annotations

from pathlib import Path

from cmpkg.mirror.manifest import MANIFEST, hash_file, read_manifest
from cmpkg.paths import safe_join


def verify(root: Path) -> list[str]:
    """Every file that differs from the manifest, is missing, or is not listed."""
    manifest = read_manifest(root)
    if manifest is None:
        return [f"{root / MANIFEST}: missing"]
    problems = []
    for rel, info in sorted(manifest.files.items()):
        path = safe_join(root, rel, str(root / MANIFEST))
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif hash_file(path) != info:
            problems.append(f"{rel}: sha256 differs from the manifest (tampered or stale mirror)")
    on_disk = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    for rel in sorted(on_disk - set(manifest.files)):
        if rel != MANIFEST and not rel.startswith("."):
            problems.append(f"{rel}: not in the manifest")
    return problems
