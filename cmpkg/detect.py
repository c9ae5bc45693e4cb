"""Finding tools that are already on the system (recipes with `provide.method = "detect"`).

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
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from cmpkg.index.model import Recipe


@dataclass(frozen=True, slots=True)
class Detected:
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
    """Versions of binaries by fingerprint, in one JSON file (rewritten atomically).

    A stale or foreign file is only a slower run: entries are re-checked by fingerprint.
    """

    def __init__(self, file: Path | None) -> None:
        self.file = file
        self.entries: dict[str, dict[str, str]] = {}
        self.dirty = False
        if file is not None and file.exists():
            try:
                self.entries = json.loads(file.read_text())
            except (OSError, ValueError):
                self.entries = {}  # a damaged cache is only a slower next run

    def lookup(self, name: str, path: Path) -> str | None:
        entry = self.entries.get(f"{name} {path}")
        if entry and entry.get("fingerprint") == fingerprint(path):
            return entry.get("version")
        return None

    def store(self, found: Detected) -> None:
        # Keyed by package and path: one interpreter answers for `python` and for the
        # modules detected through it (`torch-system`).
        self.entries[f"{found.name} {found.path}"] = {
            "fingerprint": found.fingerprint,
            "version": found.version,
        }
        self.dirty = True

    def save(self) -> None:
        if self.file is None or not self.dirty:
            return
        self.file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.file.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(self.entries, indent=1, sort_keys=True))
        tmp.replace(self.file)


def detect(recipe: Recipe, cache: DetectCache) -> Detected | None:
    """The tool on this machine, or None when it is missing or its version is unreadable."""
    path = find_executable(recipe)
    if path is None:
        return None
    version = cache.lookup(recipe.name, path)
    if version is None:
        version = run_version(path, recipe)
        if version is None:
            return None
        found = Detected(recipe.name, str(path), version, fingerprint(path))
        cache.store(found)
        return found
    return Detected(recipe.name, str(path), version, fingerprint(path))


def to_json(found: Detected) -> dict[str, str]:
    return asdict(found)
