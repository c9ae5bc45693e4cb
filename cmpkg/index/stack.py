"""Compiling a stack of index directories: per-file records, merged layers, checks, revision.

`rebuild(dirs, base)` runs when the compiled cache (`cmpkg.index.compiled`) missed: it
walks the stack and parses only the recipe files whose inputs changed. `base=None` parses
everything and writes nothing (what `cmpkg index check` and the tests of the loader use).
Either way the result is the same: the revision, every problem (per file first, in layer
and path order, then across recipes) and the table.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from packaging.version import Version

from cmpkg.index import compiled
from cmpkg.index.checks import check_summaries
from cmpkg.index.compiled import RACY_NS, Built, Compiled, Record, Scan, Table
from cmpkg.index.fields import Problems
from cmpkg.index.load import load_recipe
from cmpkg.index.model import Recipe
from cmpkg.index.table import TagIndex, row, summary

#: Directories inside an index that hold other data than recipes.
NOT_RECIPES = frozenset({"targets"})

MISSING_DIRECTORY = "index directory does not exist"  # (the hint differs: cmpkg.index)


# --- rebuilding ---------------------------------------------------------------------------


def rebuild(dirs: Sequence[Path], base: Path | None) -> Built:
    """Walk the stack, reuse every record whose inputs are unchanged, parse the rest."""
    roots = [str(d) for d in dirs]
    scan = compiled.walk([Path(r) for r in roots])
    now = compiled.now_ns()
    racy = compiled.racy(scan, now) if base is not None else ([], [])
    old = _old_records(base)
    stats = _Files(scan.stats())
    problems: list[str] = []
    parsed: dict[str, Recipe] = {}
    records: dict[str, Record] = {}
    merged: dict[tuple[str, Version | None], Record] = {}
    for directory in dirs:
        if not directory.exists():
            problems.append(f"{directory}: {MISSING_DIRECTORY}")
            continue
        layer: dict[tuple[str, Version | None], Record] = {}
        for path in _recipe_paths(directory, scan):
            record = old.get(path)
            if record is None or not _fresh(record, stats):
                record = _compile_file(path, stats, now, parsed)
            records[path] = record
            problems += record.problems
            if record.row is None:
                continue
            key = (record.name, None if record.version is None else Version(record.version))
            if key in layer:
                label = f"{record.name} {record.version}" if record.version else record.name
                other = layer[key].row[5]  # type: ignore[index]
                problems.append(f"{path}: name: {label} is also defined in {other}")
            layer[key] = record
        merged.update(layer)
    table, summaries = _by_name(merged)
    problems += check_summaries(summaries, TagIndex(table).match)
    revision = _revision(merged.values())
    result = Compiled(revision, tuple(problems), lambda: table)
    if base is not None:
        _write(base, scan, racy, result, table, records)
    return Built(result, parsed)


def _old_records(base: Path | None) -> dict[str, Record]:
    data = compiled.read(base.with_suffix(".detail")) if base is not None else None
    try:
        return {path: Record(*fields) for path, fields in data[1].items()}  # type: ignore[index]
    except (TypeError, ValueError, AttributeError, IndexError):
        return {}


def _recipe_paths(directory: Path, scan: Scan) -> list[str]:
    """The layer's `*.toml` files outside `targets/`, in `Path` order (as `rglob` sorts)."""
    root = str(directory)
    if not directory.is_dir():
        return [root]
    prefix = root.rstrip("/") + "/"
    found = [
        Path(p)
        for p in dict.fromkeys(scan.files)
        if p.startswith(prefix)
        and p.endswith(".toml")
        and not NOT_RECIPES & set(p[len(prefix) :].split("/")[:-1])
    ]
    return [str(p) for p in sorted(found)]


class _Files:
    """The scanned files' stats, with the files under a path found by bisection."""

    def __init__(self, stats: dict[str, compiled.Stat]) -> None:
        self.stats = stats
        self._sorted = sorted(stats)

    def under(self, target: str) -> list[str]:
        """`target` itself if it is a file, else every file below it. O(log n + found)."""
        if target in self.stats:
            return [target]
        prefix = target + "/"
        start = bisect.bisect_left(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, target + "0")  # "0" sorts right after "/"
        return self._sorted[start:end]


def _inputs(path: str, shipped: Sequence[str], files: _Files) -> tuple[Any, ...]:
    """The recipe file and every scanned file under the paths it ships, with their stats."""
    parent = path.rsplit("/", 1)[0] + "/" if "/" in path else ""
    under = sorted(p for rel in shipped for p in files.under((parent + rel).rstrip("/")))
    return tuple((p, *files.stats.get(p, (-1, -1))) for p in dict.fromkeys([path, *under]))


def _fresh(record: Record, stats: _Files) -> bool:
    """Reusable: no problems, the same inputs with the same stats, none of them racy."""
    if record.problems or record.row is None:
        return False  # a failing file is always parsed again: its cure may be anywhere
    if _inputs(record.inputs[0][0], record.shipped, stats) != record.inputs:
        return False
    return all(mtime <= record.created_ns - RACY_NS for _, _, mtime in record.inputs)


def _compile_file(path: str, stats: _Files, now: int, parsed: dict[str, Recipe]) -> Record:
    problems = Problems(path)
    recipe = load_recipe(Path(path), problems)
    if recipe is None:
        inputs = _inputs(path, (), stats)
        return Record(inputs, (), now, "", None, None, None, tuple(problems.lines))
    parsed[path] = recipe
    script = recipe.provide.script if recipe.provide and recipe.provide.script else None
    shipped = (*recipe.files, *([script] if script else []))
    version = None if recipe.version is None else str(recipe.version)
    inputs = _inputs(path, shipped, stats)
    return Record(inputs, shipped, now, recipe.name, version, row(recipe), summary(recipe), ())


def _by_name(merged: dict[tuple[str, Version | None], Record]) -> tuple[Table, dict[str, Any]]:
    """Rows and summaries by name (sorted), newest version first; detected tools last."""
    groups: dict[str, list[tuple[tuple[int, Version], Record]]] = {}
    for (name, version), record in merged.items():
        rank = (0, Version("0")) if version is None else (1, version)
        groups.setdefault(name, []).append((rank, record))
    table: Table = {}
    summaries: dict[str, Any] = {}
    for name in sorted(groups):
        ordered = [r for _, r in sorted(groups[name], key=lambda rr: rr[0], reverse=True)]
        table[name] = tuple(r.row for r in ordered)  # type: ignore[misc]
        summaries[name] = [r.summary for r in ordered]
    return table, summaries


def _revision(records: Any) -> str:
    """sha256 over every recipe's digest: changes whenever any recipe does."""
    h = hashlib.sha256()
    for digest in sorted(r.row[4] for r in records):
        h.update(digest.encode())
    return h.hexdigest()


def _write(
    base: Path,
    scan: Scan,
    racy: tuple[list[Any], list[Any]],
    result: Compiled,
    table: Table,
    records: dict[str, Record],
) -> None:
    """`.table` and `.detail` first, `.scan` (which makes them current) last."""
    token = compiled.new_token()
    detail = {path: tuple(r) for path, r in records.items()}  # plain tuples for marshal
    compiled.write(base.with_suffix(".table"), token, table)
    compiled.write(base.with_suffix(".detail"), token, detail)
    compiled.write_scan(base, token, scan, racy, result.revision, result.problems)
