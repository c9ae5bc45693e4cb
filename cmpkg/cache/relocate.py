"""Relocating an entry to another store path, as conda does with its prefix: the build-time
entries directory (`<home>/store-v1/entries`) is recorded when an entry is pushed, with
every file that contains it; a pull into another home rewrites those files.

An entry's own path and its dependencies' paths all start with the entries directory, and
keys are equal across homes, so one prefix covers both (a venv's script shebangs,
`pyvenv.cfg`, `.pth` files, a generated file naming a tool environment). A file holding the
prefix that is binary (a NUL byte: a compiled library, a pickle) cannot be rewritten
safely (offsets, lengths); such an entry is refused at any other path (`pinned`). Python
bytecode is neither: it holds its build directory (never the entries directory) and
Python replaces that path on import.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import os
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from cmpkg.errors import CmpkgError
from cmpkg.paths import safe_join

_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Prefixed:
    text: tuple[str, ...]  # relative paths of text files containing the prefix
    binary: tuple[str, ...]  # binary files containing it: the entry is pinned to its path


def scan(root: Path, paths: Iterable[str], prefix: str) -> Prefixed:
    """Which of `paths` (files under `root`) contain `prefix`, text or binary."""
    needle = prefix.encode()
    text: list[str] = []
    binary: list[str] = []
    for rel in paths:
        path = root / rel
        if path.is_symlink() or not path.is_file():
            continue
        found, has_nul = _search(path, needle)
        if found:
            (binary if has_nul else text).append(rel)
    return Prefixed(tuple(text), tuple(binary))


def _search(path: Path, needle: bytes) -> tuple[bool, bool]:
    """(contains needle, contains a NUL byte), reading in chunks that overlap by the
    needle's length so a match across a boundary is found."""
    found = has_nul = False
    tail = b""
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            window = tail + chunk
            found = found or needle in window
            has_nul = has_nul or b"\0" in chunk
            if found and has_nul:
                break
            tail = window[-len(needle) :]
    return found, has_nul


def rewrite(
    root: Path, prefixed: Prefixed, old: str, new: str, label: str, files: Collection[str]
) -> None:
    """Point the entry unpacked at `root` from prefix `old` to `new`; `files` are the
    relative paths of every regular file unpacked (where the wheel RECORDs are found)."""
    if old == new:
        return
    if prefixed.binary:
        raise CmpkgError(
            "cache-entry-pinned",
            f"{label} was built at {old} and holds that path in binary files "
            f"({prefixed.binary[0]}{' and more' if len(prefixed.binary) > 1 else ''}); "
            f"it cannot be used at {new}",
            hint="use the same CMPKG_HOME path on every machine that shares this cache, or "
            "let cmpkg build the entry here",
        )
    changed = []
    for rel in prefixed.text:
        path = safe_join(root, rel, f"{label}: relocate")  # a name from the cache
        if path.is_symlink() or not path.is_file():
            continue
        _check_inside(root, path.parent, label)
        data = path.read_bytes()
        _replace(path, data.replace(old.encode(), new.encode()))
        changed.append(rel)
    _fix_records(root, set(changed), [f for f in files if f.endswith(".dist-info/RECORD")])


def make_links(root: Path, links: Mapping[str, str], old: str, new: str, label: str) -> None:
    """The absolute symlinks the layer left out, made after its files: each inside `root`
    (its directory really inside, no link on the way), a target under the old prefix moved
    to the new one. Nothing is written through them: they are the last thing made."""
    for rel, target in sorted(links.items()):
        path = safe_join(root, rel, f"{label}: links")
        _check_inside(root, path.parent, label)
        if target == old or target.startswith(old + "/"):
            target = new + target[len(old) :]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)


def _check_inside(root: Path, directory: Path, label: str) -> None:
    real, top = os.path.realpath(directory), os.path.realpath(root)
    if real != top and not real.startswith(top + os.sep):
        raise CmpkgError(
            "unsafe-archive",
            f"{label}: {directory.relative_to(root)} leads outside the entry",
            hint="the cache holds something cmpkg did not push; push the entry again",
        )


def _replace(path: Path, data: bytes) -> None:
    """A new file over `path` (the unpacked one may be hard-linked or read-only)."""
    fresh = path.with_name(path.name + ".cmpkg-new")
    fresh.write_bytes(data)
    fresh.chmod(path.stat().st_mode & 0o7777)
    fresh.replace(path)


def _fix_records(root: Path, changed: set[str], records: Iterable[str]) -> None:
    """Wheel RECORD files list the hash and size of installed files, scripts included:
    those of rewritten files are updated, so `pip`-style checks of the venv still pass.
    `records` are the RECORDs' relative paths, taken from what was unpacked: globbing
    the tree for them stats every file of a venv again."""
    if not changed:
        return
    for rel_record in sorted(records):
        record = safe_join(root, rel_record, "relocate: RECORD")
        base = record.parent.parent  # RECORD paths are relative to site-packages
        rows = list(csv.reader(io.StringIO(record.read_text("utf-8"))))
        touched = False
        for row in rows:
            if len(row) != 3 or not row[1]:
                continue
            rel = os.path.relpath(os.path.normpath(base / row[0]), root)
            if rel in changed:
                data = (root / rel).read_bytes()
                digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                row[1], row[2], touched = f"sha256={digest.decode()}", str(len(data)), True
        if touched:
            out = io.StringIO()
            csv.writer(out, lineterminator="\n").writerows(rows)
            _replace(record, out.getvalue().encode("utf-8"))
