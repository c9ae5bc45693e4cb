"""The lockfile's values (pure): a `Lock` of `LockedTarget`s of `LockedPackage`s and wheels.

Design goals (docs/lockfile.md): complete (every package of every target with version,
variant, kind, store key, sources with sha256 and size, and every Python distribution with
its URL and sha256), readable TOML, deterministic, and statically checkable. Rendering is
`cmpkg.lock.render`, reading `cmpkg.lock.parse`, checking `cmpkg.lock.check`; making a lock
(solving, fetching, wheel resolution) is `cmpkg.lock.make`. This module imports no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cmpkg import __version__
from cmpkg.index.model import Pairs

LOCK_VERSION = 1


@dataclass(frozen=True)
class LockedSource:
    filename: str
    urls: tuple[str, ...]
    sha256: str
    size: int


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    variant: Pairs
    kind: str
    method: str  # how it is provided: detect (found on the machine), python, download, ...
    key: str
    recipe: str  # the recipe's digest
    needs: tuple[str, ...]
    requires: tuple[str, ...]  # hardware requirements: `__cuda >=12.0`
    sources: tuple[LockedSource, ...] = ()


@dataclass(frozen=True)
class LockedWheel:
    name: str
    version: str
    url: str
    sha256: str

    @property
    def filename(self) -> str:
        return self.url.rsplit("/", 1)[-1].split("#", 1)[0]

    def requirement(self) -> str:
        """The pin an installer must honour: this version, and only these bytes."""
        return f"{self.name}=={self.version} --hash=sha256:{self.sha256}"


@dataclass(frozen=True)
class WheelSource:
    """Where distributions may come from: cmpkg's own declared sources, nothing ambient
    (recorded in the lock as `[sources]`)."""

    find_links: tuple[str, ...] = ()
    index_urls: tuple[str, ...] = ()  # extra indexes asked for by variants (torch cu128 ...)
    no_index: bool = False  # offline or mirror-only: never a remote index


@dataclass(frozen=True)
class LockedTarget:
    name: str
    python: str
    platform: tuple[str, ...]
    facts: Mapping[str, tuple[str, str]]  # name -> (version, source)
    roots: tuple[str, ...]
    packages: Mapping[str, LockedPackage]
    wheels: tuple[LockedWheel, ...]
    environment_key: str | None
    #: The minimal tool environment of each `generate` step, by package (docs/lockfile.md).
    tool_wheels: Mapping[str, tuple[LockedWheel, ...]] = field(default_factory=dict)
    # The rest of the wheel platform (`python` and the `platform` tags are above): os,
    # arch, libc, libc-version and the Python ABI the wheels were chosen for.
    system: Mapping[str, str] = field(default_factory=dict)

    def all_wheels(self) -> tuple[LockedWheel, ...]:
        """Every distribution installing this target needs: its environment's and its steps'
        tool environments' (a mirror must carry them all)."""
        return (*self.wheels, *(w for ws in self.tool_wheels.values() for w in ws))


@dataclass(frozen=True)
class Lock:
    manifest_hash: str
    index_revision: str
    index_sources: tuple[str, ...]
    recipes: Mapping[str, str]  # "name version" -> digest of every recipe used
    targets: Mapping[str, LockedTarget]
    cmpkg_version: str = __version__
    lock_version: int = LOCK_VERSION
    extra: Mapping[str, Any] = field(default_factory=dict)
    sources: WheelSource = field(default_factory=WheelSource)  # wheels came only from these


def recipe_label(name: str, version: object) -> str:
    """How the lock names a recipe in `[index.recipes]`: `name version` (tools: `name`)."""
    return f"{name} {version}" if version is not None else name
