"""`cmpkg cache push | pull` and `cmpkg key generate`: the binary cache's workflows.

Which entries: store keys (or unique prefixes) given, an installed environment's keys
(`--env NAME`), or a lock's (`--lock FILE`): every key a frozen install of it needs, i.e.
each target's recorded package and environment keys plus, for every target this machine
can install, the keys of the plan `install --frozen` makes for it, which adds the tool
environments of `generate` steps (the lock records their wheels, not their keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cmpkg.config import home
from cmpkg.errors import UsageError

Report = Callable[[str], None]


@dataclass(frozen=True)
class Selection:
    keys: tuple[str, ...] = ()  # store keys or unique prefixes
    env: str | None = None
    lock: Path | None = None


@dataclass(frozen=True)
class PullResult:
    pulled: tuple[str, ...]
    present: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass(frozen=True)
class KeyResult:
    name: str
    private: Path
    public: str  # the `NAME:BASE64` line to put in `[trust] keys`
    extra: dict[str, Any] = field(default_factory=dict)


def selected_keys(selection: Selection, *, in_store: bool) -> list[str]:
    from cmpkg.store.store import Store

    store = Store(home())
    keys: list[str] = []
    if selection.env:
        from cmpkg import envs

        keys += envs.load(home(), selection.env).keys
    if selection.lock is not None:
        keys += lock_keys(selection.lock)
    for given in selection.keys:
        keys.append(store.resolve(given) if in_store or len(given) < 64 else given)
    if not keys:
        raise UsageError(
            "nothing-selected",
            "no entries given",
            hint="give store keys, --env NAME or --lock FILE",
        )
    return list(dict.fromkeys(keys))


def lock_keys(path: Path) -> list[str]:
    """Every store key a frozen install of the lock at `path` makes (see the top)."""
    from cmpkg.commands.install import InstallInput, install
    from cmpkg.errors import CmpkgError
    from cmpkg.lock import read_lock

    lock = read_lock(path)
    keys: list[str] = []
    for name, target in sorted(lock.targets.items()):
        keys += [p.key for p in target.packages.values()]
        keys += [target.environment_key] if target.environment_key else []
        frozen = InstallInput(
            lock_mode="frozen", lock_path=path, target=name, dry_run=True, start=path.parent
        )
        try:
            keys += install(frozen).plan.keys().values()
        except CmpkgError:
            continue  # a target this machine cannot install: only its recorded keys
    return keys


def push(selection: Selection, to: str, key_name: str | None, jobs: int, report: Report) -> Any:
    from cmpkg.cache import parse_url, signing
    from cmpkg.cache import push as pushing
    from cmpkg.store.store import Store

    url = parse_url(to)
    signer = signing.load(home(), key_name)
    keys = selected_keys(selection, in_store=True)
    return pushing.push(Store(home()), keys, url, signer, jobs=jobs, report=report)


def pull(
    selection: Selection, sources: tuple[str, ...], start: Path, offline: bool, jobs: int = 4
) -> PullResult:
    """Put the selected entries into the store from the caches, `jobs` at a time (each
    under its own entry lock, so pulls of one key by several processes download once)."""
    from concurrent.futures import ThreadPoolExecutor

    from cmpkg import project as project_file
    from cmpkg.cache import settings
    from cmpkg.cache.substitute import Substituter
    from cmpkg.store.store import Store

    store = Store(home())
    chosen = settings.load(sources, project_file.find(start), store.home)
    if not chosen.urls:
        raise UsageError(
            "no-cache",
            "no cache to pull from",
            hint="give --from URL, or `[[cache]]` in the config",
        )
    substituter = Substituter(chosen.urls, chosen.trusted, store, offline=offline)
    keys = selected_keys(selection, in_store=False)
    with ThreadPoolExecutor(max_workers=max(jobs, 1), thread_name_prefix="pull") as pool:
        outcome = dict(zip(keys, pool.map(substituter.pull, keys), strict=True))
    return PullResult(
        *(
            tuple(k for k, v in outcome.items() if v == kind)
            for kind in ("pulled", "present", "missing")
        )
    )


def generate_key(name: str) -> KeyResult:
    from cmpkg.cache import signing

    key = signing.generate(home(), name)
    return KeyResult(name, signing.keys_dir(home()) / f"{name}.key", key.public)
