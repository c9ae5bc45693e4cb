"""Making a mirror: everything a lock needs, fetched and verified, then the manifest, last.

`create(plan)` is the whole workflow behind `cmpkg mirror create` (the CLI only picks the
lock). It is incremental: artifacts and wheels already present with the lock's sha256 are
kept, files the lock no longer needs are removed, and when the resulting files are exactly
those of the existing manifest, the manifest is not rewritten (its `created` stays), so
re-running with an unchanged lock touches neither the network nor the mirror.
"""

from __future__ import annotations

import datetime
import shutil
import sys
import tempfile
import urllib.parse
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from cmpkg import status
from cmpkg.console import plural
from cmpkg.errors import CmpkgError
from cmpkg.lock import Lock, LockedSource, LockedTarget, LockedWheel, render
from cmpkg.mirror.manifest import (
    LOCK,
    MANIFEST,
    Manifest,
    hash_file,
    key_problem,
    read_manifest,
    scan,
    write_manifest,
)
from cmpkg.mirror.snapshot import snapshot_index
from cmpkg.paths import check_part, safe_join
from cmpkg.pyenv import WheelSource

if TYPE_CHECKING:
    from cmpkg.cache.signing import SigningKey

DEFAULT_EXPIRY_DAYS = 365


@dataclass(frozen=True)
class CreatePlan:
    """What `create` needs: the lock and its chosen targets, and where things come from."""

    root: Path  # the mirror directory
    lock: Lock
    targets: Mapping[str, LockedTarget]
    index_dirs: Sequence[Path]  # the index stack the lock was made from
    wheels: WheelSource
    downloads: Path  # the store's downloads dir (fetched artifacts are shared with installs)
    expires_days: int | None = None  # None: keep the previous expiry, or the default
    signer: SigningKey | None = None  # `--sign`: the manifest is signed with it


@dataclass(frozen=True)
class Created:
    manifest: Manifest
    new_artifacts: int
    new_wheels: int
    changed: bool  # False: the mirror already held exactly this; its manifest was kept
    notes: tuple[str, ...] = ()


def create(plan: CreatePlan) -> Created:
    root = plan.root
    root.mkdir(parents=True, exist_ok=True)
    previous = read_manifest(root)
    notes = snapshot_index(plan.index_dirs, root, plan.lock)
    sources = {s.filename: s for t in plan.targets.values() for p in t.packages.values()
               for s in p.sources}  # fmt: skip
    artifacts = add_artifacts(root, sources.values(), plan.downloads)
    fetched = sum(add_wheels(root, t, plan.wheels) for t in plan.targets.values())
    _prune(root / "artifacts", set(sources))
    kept = {_wheel_name(w.url) for t in plan.targets.values() for w in t.all_wheels()}
    _prune(root / "wheels", kept)
    _write_if_changed(root / LOCK, render(replace(plan.lock, targets=dict(plan.targets))))
    files = scan(root)
    _check_keys(files)
    if previous is not None and previous.files == files and plan.expires_days is None:
        if plan.signer is None or _signed_by(previous, plan.signer):
            return Created(previous, artifacts, fetched, False, tuple(notes))
        signed = _signed(previous, plan.signer)  # same files and times, now signed
        write_manifest(root, signed)
        return Created(signed, artifacts, fetched, True, tuple(notes))
    now = datetime.datetime.now(datetime.timezone.utc)
    days = plan.expires_days or _previous_days(previous) or DEFAULT_EXPIRY_DAYS
    manifest = Manifest(
        previous.id if previous else uuid.uuid4().hex,
        now,
        now + datetime.timedelta(days=days),
        files,
    )
    if plan.signer is not None:
        manifest = _signed(manifest, plan.signer)
    write_manifest(root, manifest)
    return Created(manifest, artifacts, fetched, True, tuple(notes))


def _signed_by(manifest: Manifest, key: SigningKey) -> bool:
    return manifest.signature is not None and manifest.signature[0] == key.public


def _signed(manifest: Manifest, key: SigningKey) -> Manifest:
    from cmpkg.mirror.signature import sign

    return sign(manifest, key)


def _previous_days(previous: Manifest | None) -> int | None:
    if previous is None or previous.expires is None:
        return None
    return max(1, round((previous.expires - previous.created).total_seconds() / 86400))


def _write_if_changed(path: Path, text: str) -> None:
    from cmpkg.atomic import write_text

    if not path.is_file() or path.read_text() != text:
        write_text(path, text)


def _check_keys(files: Mapping[str, object]) -> None:
    bad = [f"{rel}: {problem}" for rel in files if (problem := key_problem(rel))]
    if bad:
        raise CmpkgError(
            "bad-mirror-file",
            f"the mirror would hold {len(bad)} file(s) that cannot be listed in {MANIFEST}",
            details=bad,
            hint="rename them in the index (names must be portable relative paths)",
        )


def _prune(directory: Path, wanted: set[str]) -> None:
    """Remove files the lock no longer needs: pip would otherwise pick them from the mirror."""
    if directory.is_dir():
        for path in directory.iterdir():
            if path.name not in wanted and path.is_file():
                path.unlink()


# --- populating ---------------------------------------------------------------------------


def add_artifacts(root: Path, sources: Iterable[LockedSource], downloads: Path) -> int:
    """Copy every locked source into `artifacts/` (fetched and verified); skip present ones."""
    from cmpkg import fetch

    added = 0
    for source in sources:
        name = check_part(source.filename, f"{LOCK}: sources.filename")
        target = safe_join(root / "artifacts", name, f"{LOCK}: sources.filename")
        if _has(target, source.sha256):
            continue
        artifact = fetch.Artifact(name, tuple(source.urls), name, source.sha256, source.size)
        with status.activity(f"mirror: fetching {name}"):
            got = fetch.fetch(artifact, downloads)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(got.path, target)
        added += 1
    return added


def _wheel_name(url: str) -> str:
    # `torch-2.4.0%2Bcpu-...whl` in a URL is `torch-2.4.0+cpu-...whl` on disk.
    return urllib.parse.unquote(url.rsplit("/", 1)[-1].split("#", 1)[0])


def add_wheels(root: Path, target: LockedTarget, source: WheelSource) -> int:
    """A locked target's missing distributions into `wheels/`, each checked against the lock.

    pip downloads into a scratch directory; only the files the lock names, with its sha256,
    are moved into the mirror (pip may fetch other files, and names come from the lock).
    One pip call per environment (the project's, then each step's own): two environments
    may pin two versions of one name, which one pip call refuses.
    """
    directory = root / "wheels"
    directory.mkdir(parents=True, exist_ok=True)
    fetched = 0
    for wheels in (target.wheels, *target.tool_wheels.values()):
        fetched += _add_environment(root, directory, target, wheels, source)
    return fetched


def _add_environment(
    root: Path,
    directory: Path,
    target: LockedTarget,
    wheels: tuple[LockedWheel, ...],
    source: WheelSource,
) -> int:
    wanted = {}
    for wheel in wheels:
        name = check_part(_wheel_name(wheel.url), f"{LOCK}: targets.{target.name}.wheels.url")
        wanted[name] = wheel
    missing = {n: w for n, w in wanted.items() if not _has(directory / n, w.sha256)}
    if not missing:
        return 0
    label = f"mirror: downloading {plural(len(missing), 'wheel')} for {target.name}"
    with tempfile.TemporaryDirectory(dir=root, prefix=".pip-") as scratch, status.activity(label):
        _pip_download(
            Path(scratch), target, source, [f"{w.name}=={w.version}" for w in missing.values()]
        )
        for name, wheel in missing.items():
            got = Path(scratch) / name
            if not _has(got, wheel.sha256):
                raise CmpkgError(
                    "mirror-hash-mismatch",
                    f"{name}: the downloaded file does not match the lock's sha256",
                    hint="the index serves other bytes than when the lock was made; re-lock",
                )
            got.replace(directory / name)
    return len(missing)


def _pip_download(dest: Path, target: LockedTarget, source: WheelSource, reqs: list[str]) -> None:
    from cmpkg.installer import isolated_environment, pip_trust_args
    from cmpkg.process import run_or_raise
    from cmpkg.wheels import pip_source_args, target_args

    python = ".".join(target.python.split(".")[:2])
    argv = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
            "--disable-pip-version-check", "-d", str(dest),
            *target_args(python, target.platform), *pip_source_args(source, ()),
            *pip_trust_args(), *reqs]  # fmt: skip
    run_or_raise(  # isolated: pip.conf or PIP_* must not change what a mirror carries
        argv,
        "mirror-wheels-failed",
        f"pip could not download the wheels of {target.name}",
        env=isolated_environment(),
    )


def _has(path: Path, sha256: str) -> bool:
    return path.is_file() and hash_file(path).sha256 == sha256
