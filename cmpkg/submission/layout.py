"""The tree-wide rules of a submission: which files may sit where, and how entries are named.

MLCommons' checker walks the whole tree before it reads any log: the submission root
holds only division folders (and `.md`/`.pdf` files), a division folder only submitter
folders; no entry is hidden (`.name`), has a space in its name, is a `__pycache__`, an
empty folder, a broken link or a file over the size limit; and the folders whose files
it knows (`performance/run_1`, `accuracy`, a compliance test's `performance/run_1` and
`accuracy`) hold exactly those files, besides a few it always tolerates. The limits and
file names are the round's data (rules.json); this module only walks and compares.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path

from cmpkg.submission.rules import Rules

#: (path, rule, message): what a failed layout rule reports.
Fail = Callable[[Path, str, str], None]


def check_root(root: Path, rules: Rules, fail: Fail) -> None:
    """Stray files at the root and in the division folders; each entry of a division."""
    suffixes = tuple(rules["root-file-suffixes"])
    for entry in _files(root):
        if not entry.name.endswith(suffixes):
            fail(entry, "stray-file", f"{entry.name} is outside a division folder")
    for division in sorted(p for p in root.iterdir() if p.is_dir()):
        if division.name not in rules["divisions"]:
            continue
        for entry in _files(division):
            fail(entry, "stray-file", f"{entry.name} is outside a submitter folder")
        for submitter in sorted(p for p in division.iterdir() if p.is_dir()):
            check_entries(submitter, rules, fail)


def check_entries(top: Path, rules: Rules, fail: Fail) -> None:
    """Every file and folder under a submitter: names, emptiness, links and sizes."""
    limit = rules["max-file-bytes"]
    for folder, dirs, names in os.walk(top):
        here = Path(folder)
        if not dirs and not names:
            fail(here, "empty-dir", f"{here.name} is an empty folder")
        for name in [*dirs, *names]:
            _name(here / name, fail)
        for name in names:
            path = here / name
            if path.is_symlink() and not path.exists():
                fail(path, "broken-link", f"{name} is a broken link")
            elif path.is_file() and path.stat().st_size > limit:
                fail(path, "file-size", f"{path.stat().st_size} bytes, over {limit}")


def _name(path: Path, fail: Fail) -> None:
    if path.name.startswith("."):
        fail(path, "name", f"{path.name} is hidden (git-unfriendly)")
    if " " in path.name:
        fail(path, "name", f"{path.name!r} has a space")
    if path.name == "__pycache__":
        fail(path, "name", "__pycache__ folder")


def check_file_set(
    folder: Path, rules: Rules, required: Iterable[str], optional: Iterable[str], fail: Fail
) -> None:
    """`folder` holds exactly `required` (and maybe `optional` and the always-tolerated)."""
    if not folder.is_dir():
        return  # a missing folder is reported by the file rules of its contents
    wanted = set(required)
    tolerated = set(optional) | set(rules["always-optional-files"])
    present = {p.name for p in _files(folder)}
    extra = sorted(present - wanted - tolerated)
    missing = sorted(wanted - present)
    if extra or missing:
        said = [f"missing {', '.join(missing)}"] * bool(missing)
        said += [f"unexpected {', '.join(extra)}"] * bool(extra)
        fail(folder, "file-set", "; ".join(said))


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() or p.is_symlink())
