"""Probing the tools that are already on the system (recipes with `provide.method = "detect"`).

Owns the search (PATH, then the recipe's documented default locations), the version command,
and a small cache keyed by each binary's fingerprint (path, size, mtime): an upgraded binary
has a new fingerprint and is run again, so a stale version is never reported (CM's bug), and
an unchanged one costs a `stat`, not a subprocess, on every later command.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from cmpkg import atomic
from cmpkg.index.model import Recipe


class Detected(NamedTuple):
    name: str
    path: str
    version: str
    fingerprint: str


def fingerprint(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def find_executable(recipe: Recipe, search_path: str | None = None) -> Path | None:
    """The first of the recipe's executables on PATH, else in its default locations."""
    assert recipe.provide is not None
    for exe in recipe.provide.executables:
        found = shutil.which(exe, path=search_path)
        if found:
            return Path(found)
    for location in recipe.provide.locations:
        for exe in recipe.provide.executables:
            candidate = Path(location).expanduser() / exe
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    return None


def parse_version(output: str, pattern: str) -> str | None:
    """The version in a tool's output, by the recipe's regex (first capture group)."""
    match = re.search(pattern, output)
    return match.group(1) if match else None


def run_version(path: Path, recipe: Recipe) -> str | None:
    import subprocess  # here: a detection answered from its cache runs nothing

    assert recipe.provide is not None
    try:
        done = subprocess.run(
            [str(path), *recipe.provide.version_args],
            capture_output=True,
            text=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return parse_version(done.stdout + done.stderr, recipe.provide.version_regex)


class DetectCache:
    """Detection results by fingerprint, in one JSON file (rewritten atomically).

    Keyed by package and path: one interpreter answers for `python` and for the modules
    detected through it (`torch-system`). A result is reused only while the fingerprint is
    unchanged, and "not found" is remembered too, so a resolution that merely reaches an
    optional tool costs a `stat`, not a subprocess. A damaged file is only a slower run.
    """

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, dict[str, Any]] = {}
        self.dirty = False
        if file is not None and file.exists():
            try:
                self.entries = json.loads(file.read_text())
            except (OSError, ValueError):
                self.entries = {}

    def lookup(self, name: str, path: Path, print_: str) -> tuple[bool, str | None]:
        """(known, version): version None means "looked, not found"."""
        entry = self.entries.get(f"{name} {path}")
        if not isinstance(entry, dict) or entry.get("fingerprint") != print_:
            return False, None
        return True, entry.get("version") or None

    def remember(self, name: str, path: Path, print_: str, version: str | None) -> None:
        self.entries[f"{name} {path}"] = {"fingerprint": print_, "version": version or ""}
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        atomic.write_text(self.file, json.dumps(self.entries, indent=1, sort_keys=True))
        self.dirty = False


_SITE_DIRS = "import site; print('\\n'.join(site.getsitepackages()))"


def module_fingerprint(interpreter: Path, cache: DetectCache) -> str:
    """The interpreter's fingerprint plus the mtimes of its site-packages directories:
    installing or removing a package changes a directory's mtime, so a module detected
    through the interpreter is looked at again exactly when it may have changed."""
    key = f"site-dirs {interpreter}"
    entry = cache.entries.get(key)
    base = fingerprint(interpreter)
    if not isinstance(entry, dict) or entry.get("fingerprint") != base:
        import subprocess

        done = subprocess.run(
            [str(interpreter), "-c", _SITE_DIRS], capture_output=True, text=True, check=False
        )
        entry = {"fingerprint": base, "dirs": done.stdout.split()}
        cache.entries[key] = entry
        cache.dirty = True
    stamps = [str(Path(d).stat().st_mtime_ns) if Path(d).is_dir() else "-" for d in entry["dirs"]]
    return base + ";" + ",".join(stamps)


def find_version_file(recipe: Recipe) -> Path | None:
    """The first of the recipe's `version-files` that exists (libraries with no program)."""
    assert recipe.provide is not None
    for name in recipe.provide.version_files:
        path = Path(name).expanduser()
        if path.exists():
            return path
    return None


def read_file_version(path: Path, pattern: str) -> str | None:
    """The version in a file's resolved name (`libcudnn.so.9 -> libcudnn.so.9.19.0`), else
    in its first 64 KiB (`#define CUDNN_MAJOR 9`)."""
    found = parse_version(str(path.resolve()), pattern)
    if found:
        return found
    with path.open("rb") as f:
        return parse_version(f.read(1 << 16).decode("utf-8", "replace"), pattern)


def detect(recipe: Recipe, cache: DetectCache) -> Detected | None:
    """The tool on this machine, or None when it is missing or its version is unreadable."""
    assert recipe.provide is not None
    path = find_executable(recipe) if recipe.provide.executables else find_version_file(recipe)
    if path is None:
        return None
    print_ = fingerprint(path.resolve())
    if recipe.provide.system_site_packages:
        print_ = module_fingerprint(path, cache)
    known, version = cache.lookup(recipe.name, path, print_)
    if not known:
        if recipe.provide.executables:
            version = run_version(path, recipe)
        else:
            version = read_file_version(path, recipe.provide.version_regex)
        cache.remember(recipe.name, path, print_, version)
    return Detected(recipe.name, str(path), version, print_) if version else None


def find_interpreter(recipe: Recipe, version: str, cache: DetectCache) -> Detected | None:
    """An interpreter of `version` (major.minor) for a profile target's environment:
    `python{version}` first, then the recipe's own executables, each checked by running it."""

    assert recipe.provide is not None
    for exe in (f"python{version}", *recipe.provide.executables):
        only = recipe._replace(provide=recipe.provide._replace(executables=(exe,)))
        found = detect(only, cache)
        if found and found.version.split(".")[:2] == version.split(".")[:2]:
            return found
    return None


def detect_all(recipes: Iterable[Recipe], cache: DetectCache) -> dict[str, Detected]:
    """Every tool among `recipes` found on this machine, by name; the cache is saved once.

    Runs before resolving (the resolver takes the result as a plain value): the caller
    passes only the detect recipes a request can reach (`cmpkg.resolve.reachable_tools`).
    """
    found = {}
    for recipe in recipes:
        detected = detect(recipe, cache)
        if detected is not None:
            found[recipe.name] = detected
    cache.save()
    return found
