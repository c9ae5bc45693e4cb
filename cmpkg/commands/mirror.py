"""`cmpkg mirror create`: choose the lock (made now for REQs, a given file, or the project's)
and its targets, then make the mirror (`cmpkg.mirror.create`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmpkg.config import home
from cmpkg.lock import Lock, LockedTarget
from cmpkg.mirror.create import Created, CreatePlan, create
from cmpkg.pyenv import WheelSource


@dataclass(frozen=True)
class MirrorCreateInput:
    root: Path  # the mirror directory
    requests: tuple[str, ...] = ()  # lock these now instead of reading a lockfile
    lock_path: Path | None = None  # default: the project's
    targets: tuple[str, ...] = ()  # of the lock; default all (for REQs: cpu)
    all_targets: bool = False
    index_dirs: tuple[Path, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    backend: str = "auto"
    expires_days: int | None = None  # None: keep the previous expiry, or the default
    sign: bool = False  # sign mirror.json (docs/mirror.md, "Signed mirrors")
    key: str | None = None  # the signing key's name or file; default: the only one
    start: Path = field(default_factory=Path.cwd)  # where the project is looked for


def create_mirror(given: MirrorCreateInput) -> Created:
    from cmpkg.store.store import Store

    root = given.root.resolve()
    lock, index_dirs = _lock_for(given)
    return create(
        CreatePlan(
            root=root,
            lock=lock,
            targets=_selected(lock, given),
            index_dirs=index_dirs,
            wheels=WheelSource(given.find_links, (), given.no_index),
            downloads=Store(home()).downloads_dir,
            expires_days=given.expires_days,
            signer=_signer(given),
        )
    )


def _signer(given: MirrorCreateInput) -> Any:
    if not given.sign:
        return None
    from cmpkg.cache import signing

    return signing.load(home(), given.key)


def _lock_for(given: MirrorCreateInput) -> tuple[Lock, list[Path]]:
    """The lock to mirror and the index stack it was made from: one made now for REQs, the
    given file (with the index of the project it belongs to), or the current project's."""
    from cmpkg import project as project_file
    from cmpkg.index import active_index_dirs
    from cmpkg.lock import read_lock

    if given.requests:
        return _lock_requests(given)
    if given.lock_path is not None:
        path = given.lock_path.resolve()
        project = project_file.find(path.parent)
    else:
        project = project_file.find(given.start)
        path = (project.parent if project else given.start) / project_file.LOCKFILE
    extra = project_file.load(project).index_dirs() if project else []
    return read_lock(path), list(active_index_dirs([*extra, *given.index_dirs]))


def _lock_requests(given: MirrorCreateInput) -> tuple[Lock, list[Path]]:
    """Lock REQs now, unless the mirror's own lock was made for the same inputs and every
    recipe it uses is unchanged: then re-creating needs no solve and no network."""
    import hashlib
    import json
    from dataclasses import replace

    from cmpkg.errors import CmpkgError
    from cmpkg.index import active_index_dirs, load_index
    from cmpkg.lock import read_lock
    from cmpkg.lock.check import stale_reasons
    from cmpkg.lock.make import make_lock
    from cmpkg.mirror import LOCK
    from cmpkg.pyenv import WheelSource

    dirs = list(active_index_dirs(given.index_dirs))
    index = load_index(dirs)
    targets = list(given.targets) or ["cpu"]
    inputs = {"requests": list(given.requests), "targets": targets, "index": [str(d) for d in dirs],
              "find-links": list(given.find_links), "no-index": given.no_index}  # fmt: skip
    digest = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    if (given.root / LOCK).is_file():
        try:
            old = read_lock(given.root / LOCK)
        except CmpkgError:
            old = None
        if old is not None and not stale_reasons(old, digest, tuple(targets), index):
            return old, dirs
    wheels = WheelSource(given.find_links, (), given.no_index)
    lock = make_lock(index, given.requests, targets, wheels, backend=given.backend)
    return replace(lock, manifest_hash=digest), dirs


def _selected(lock: Lock, given: MirrorCreateInput) -> dict[str, LockedTarget]:
    from cmpkg.errors import UsageError

    if given.all_targets or given.requests or not given.targets:
        return dict(lock.targets)
    unknown = sorted(set(given.targets) - set(lock.targets))
    if unknown:
        raise UsageError(
            "unknown-lock-target",
            f"the lock has no target {', '.join(unknown)}",
            hint=f"it has: {', '.join(lock.targets)}",
        )
    return {t: lock.targets[t] for t in given.targets}
