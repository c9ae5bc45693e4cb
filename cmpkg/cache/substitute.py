"""Substitution: before building an entry, ask the caches for it by its key, in order (as
Nix asks its substituters). A hit is verified (its signature by a trusted key over the
manifest digest, the metadata's and the layer's sha256) and unpacked inside the store's
build of that key, so it is committed atomically like a local build, under the same lock.

A miss asks the next cache; an unreachable cache is warned about once and not asked again
during this install; a refused entry (unsigned, wrongly signed, untrusted, tampered) is
reported with its reason and the next cache is asked. When no cache has it, the entry is
built locally, unless building is not allowed (`--no-build`): then the last reason is the
error. Each key is asked for once per install: `ahead` pulls every entry of a plan at once,
before the plan's waves, and the waves' builds only build what it could not substitute.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmpkg import console
from cmpkg.cache import artifact, relocate, signing
from cmpkg.cache.registry import UnreachableError
from cmpkg.cache.source import Source, open_source
from cmpkg.cache.url import CacheUrl
from cmpkg.errors import CmpkgError
from cmpkg.store import layout, readonly
from cmpkg.store.stamps import Built
from cmpkg.store.store import Build, Store

Report = Callable[[str], None]


@dataclass(frozen=True)
class Found:
    source: Source
    digest: str  # of the manifest
    config: Mapping[str, Any]
    layer: Mapping[str, Any]  # descriptor
    signer: str  # the public key's name


@dataclass(frozen=True)
class Wanted:
    """An entry a plan makes: its key, its label for messages, what the store records."""

    key: str
    label: str
    meta: Mapping[str, Any]


class _MissedError(Exception):
    """No cache gave the entry: the store removes the empty build dir (`ahead`)."""


class Substituter:
    def __init__(
        self,
        urls: Sequence[CacheUrl],
        trusted: Sequence[str],
        store: Store,
        *,
        offline: bool = False,
        allow_build: bool = True,
    ) -> None:
        self.urls = [u for u in urls if u.loopback or not offline]
        self.skipped_offline = [u for u in urls if u not in self.urls]
        self.trusted = tuple(trusted)
        self.store = store
        self.allow_build = allow_build
        self.substituted: set[str] = set()
        self._asked: set[str] = set()  # keys the caches were asked for (once per install)
        self._refused: dict[str, CmpkgError] = {}  # key -> why its last hit was refused
        self._sources: dict[str, Source | None] = {}
        self._lock = threading.Lock()

    def _source(self, url: CacheUrl) -> Source | None:
        """The open cache, or None once it proved unreachable (warned about once)."""
        with self._lock:
            if url.text not in self._sources:
                self._sources[url.text] = open_source(url)
            return self._sources[url.text]

    def _unreachable(self, url: CacheUrl, why: str) -> None:
        with self._lock:
            if self._sources.get(url.text) is None:
                return
            self._sources[url.text] = None
        console.message("warning", f"cache {url.text} is unreachable ({why}); building locally")

    # ---------------------------------------------------------------- the install hook

    def ahead(self, wanted: Sequence[Wanted], report: Report, jobs: int) -> None:
        """Substitute every wanted entry now, `jobs` at a time, in no dependency order: a
        hit needs none of its dependencies (its files come from the cache, relocated), so
        following the plan's waves, as building must, only queued each download and unpack
        behind the previous wave's largest one (the Python environment). What no cache
        gives is left for the waves, whose builds (`wrap`) then build it without asking
        the caches again."""
        todo = list({w.key: w for w in wanted}.values())  # two steps may share one key

        def one(item: Wanted) -> None:
            pull = functools.partial(self._substituted, item.key, item.label, report=report)
            with contextlib.suppress(_MissedError):
                self.store.ensure(item.key, pull, dict(item.meta))

        if len(todo) < 2:
            for item in todo:
                one(item)
            return
        with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="substitute") as pool:
            try:
                list(pool.map(one, todo))
            except KeyboardInterrupt:
                pool.shutdown(wait=True, cancel_futures=True)
                raise

    def _substituted(self, key: str, label: str, tmp: Path, *, report: Report) -> Built:
        got = self.substitute(key, label, tmp, report)
        if got is None:
            raise _MissedError(key)
        return got

    def wrap(self, key: str, label: str, build: Build, report: Report) -> Build:
        """A build for `Store.ensure`: the first cache that has `key` verified, else `build`."""

        def substituted_or_built(tmp: Path) -> Mapping[str, Any] | Built:
            got = self.substitute(key, label, tmp, report)
            if got is not None:
                return got
            refused = self._refused.get(key)
            if not self.allow_build:
                raise refused or CmpkgError(
                    "not-in-cache",
                    f"{label} ({key[:12]}) is in no cache and --no-build forbids building it",
                    hint="push it from a machine that built it (`cmpkg cache push`), or drop "
                    "--no-build",
                )
            if refused is not None:
                console.message("warning", f"building {label} locally instead")
            report("build " + label)
            return build(tmp)

        return substituted_or_built

    def substitute(self, key: str, label: str, tmp: Path, report: Report) -> Built | None:
        """Entry `key` unpacked into `tmp` from the first cache that has it, verified; None
        when none has it or every hit was refused (the last refusal is kept for `wrap`),
        and for a key already asked for in this install."""
        with self._lock:
            if key in self._asked:
                return None
            self._asked.add(key)
        for url in self.urls:
            try:
                found = self.lookup(url, key, label)
                if found is None:
                    continue
                report(f"substitute {label} from {url.text}")
                result = self.unpack(found, key, label, tmp)
            except UnreachableError as error:
                self._unreachable(url, str(error))
                continue
            except CmpkgError as error:
                self._refuse(key, label, url, error)
                _clear(tmp)
                continue
            with self._lock:
                self.substituted.add(key)
            return result
        return None

    def _refuse(self, key: str, label: str, url: CacheUrl, error: CmpkgError) -> None:
        with self._lock:
            self._refused[key] = error
        console.message(
            "warning", f"refused {label} from {url.text}: {error.message} [{error.code}]"
        )
        if error.hint:
            console.message("hint", error.hint)

    # ---------------------------------------------------------------- lookup, unpack

    def lookup(self, url: CacheUrl, key: str, label: str) -> Found | None:
        """The verified manifest and metadata of `key` in cache `url`; None: a miss."""
        source = self._source(url)
        if source is None:
            return None
        got = _manifest(source, key)
        if got is None:
            return None
        data, digest = got
        config_desc, layer = artifact.parse_manifest(url.text, key, data)
        signer = self._check_signature(source, key, digest, label)
        raw = _blob(source, str(config_desc["digest"]), artifact.MAX_CONFIG)
        config = artifact.parse_config(url.text, key, raw, config_desc)
        return Found(source, digest, config, layer, signer)

    def _check_signature(self, source: Source, key: str, digest: str, label: str) -> str:
        where = f"{source.url.text}: {label} ({key[:12]})"
        got = _manifest(source, artifact.signature_tag(digest))
        notes: dict[str, str] = {}
        if got is not None:
            with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):
                import json

                notes = dict(json.loads(got[0])["annotations"])
        signature, public = notes.get("dev.cmpkg.signature"), notes.get("dev.cmpkg.public-key")
        if not signature or not public or notes.get("dev.cmpkg.key") != key:
            raise signing.SignatureError(
                "cache-signature-missing",
                f"{where} is not signed",
                hint="push it again with a signing key (`cmpkg key generate`, then "
                "`cmpkg cache push`)",
            )
        why = signing.verify(signing.entry_message(key, digest), signature, public, self.trusted)
        name = public.split(":", 1)[0]
        if why == "untrusted":
            raise signing.SignatureError(
                "cache-signature-untrusted",
                f"{where} is signed by key {name!r}, which is not trusted here",
                hint=f"to trust it, add its public key to `[trust] keys` in the config file or "
                f'cmpkg.toml: "{public}"',
            )
        if why is not None:
            raise signing.SignatureError(
                "cache-signature-invalid",
                f"{where}: the signature by {name!r} does not match the manifest",
                hint="the cache's copy was changed after it was signed; push it again from a "
                "trusted machine",
            )
        return name

    def unpack(self, found: Found, key: str, label: str, tmp: Path) -> Built:
        """The layer downloaded (verified by sha256 and size), extracted into `tmp` safely,
        and relocated to this store's path; returns what the original build returned, with
        the files the extraction hashed as it wrote them (the store records those hashes
        while the files' stamps hold: a relocated file is a new inode, read again)."""
        from cmpkg import archive, fetch

        layer_digest = str(found.layer["digest"])
        item = fetch.Artifact(
            name=f"{label} (from {found.source.url.text})",
            urls=(found.source.blob_url(layer_digest),),
            filename=key + artifact.LAYER_TYPES[str(found.layer["mediaType"])],
            sha256=layer_digest.split(":", 1)[1],
            size=int(found.layer["size"]),
        )
        try:
            got = fetch.fetch(item, self.store.downloads_dir, session=found.source.session)
        except CmpkgError as error:
            if error.code == "hash-mismatch":
                raise CmpkgError(
                    "cache-entry-tampered",
                    f"{found.source.url.text}: the files of {label} ({key[:12]}) do not match "
                    "their signed manifest",
                    hint="the cache's copy was changed; push it again from a trusted machine",
                ) from None
            raise UnreachableError(error.message) from None
        try:
            files = archive.extract(got.path, tmp, keep_times=True, vouch=True).files
        finally:
            got.path.unlink(missing_ok=True)  # the entry holds the files now
        here = str(self.store.base / layout.ENTRIES)
        old = str(found.config.get("prefix", here))
        relocate.rewrite(tmp, artifact.prefixed(found.config), old, here, label, files)
        relocate.make_links(tmp, artifact.links(found.config), old, here, label)
        build = dict(found.config.get("build", {}))
        build["substituted"] = {
            "from": found.source.url.text,
            "manifest": found.digest,
            "signed-by": found.signer,
        }
        return Built(build, files)

    # ---------------------------------------------------------------- cmpkg cache pull

    def pull(self, key: str) -> str:
        """Put entry `key` into the store from the first cache that has it: "present",
        "pulled" or "missing"."""
        if self.store.get(key) is not None:
            return "present"
        for url in self.urls:
            try:
                found = self.lookup(url, key, key[:12])
            except UnreachableError as error:
                self._unreachable(url, str(error))
                continue
            if found is None:
                continue
            label = str(found.config.get("meta", {}).get("package", key[:12]))
            meta = dict(found.config.get("meta", {}))
            self.store.ensure(key, functools.partial(self.unpack, found, key, label), meta)
            return "pulled"
        return "missing"


def _manifest(source: Source, ref: str) -> tuple[bytes, str] | None:
    try:
        return source.manifest(ref)
    except OSError as error:
        raise UnreachableError(str(error)) from None


def _blob(source: Source, digest: str, limit: int) -> bytes:
    try:
        return source.blob(digest, limit)
    except (OSError, ValueError) as error:
        raise UnreachableError(str(error)) from None


def _clear(tmp: Path) -> None:
    """Empty a build dir after a refused pull, for the local build that follows."""
    for child in list(tmp.iterdir()) if tmp.is_dir() else []:
        if child.is_dir() and not child.is_symlink():
            readonly.rmtree(child)
        else:
            child.unlink()
