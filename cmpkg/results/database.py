"""Where run records live: one JSON file per run, merged into one SQLite database.

    <project>/.cmpkg/results/          (or $CMPKG_HOME/results/ outside a project)
        records/<run id>.json          written once, atomically, by the run that made it
        results.db                     SQLite (stdlib sqlite3), merged from records/

The concurrency choice (docs/results.md): **one writer per file, then a merge**. Sweep cells
finishing at once on a shared filesystem (NFS, Lustre) each write only their own record
file, by rename, so they never contend and need no locking that such filesystems do badly.
The database is written only by the merge step, one process at a time under an OS file
lock, in one transaction; it is a cache of `records/` (delete it and it is rebuilt), so a
crash mid-merge loses nothing. `cmpkg run` only writes its record (no sqlite3, no lock on
the path after an app); every reading command (`results list`, `report`, ...) merges first.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cmpkg import atomic
from cmpkg.errors import CmpkgError
from cmpkg.results.record import COLUMNS, RunRecord

if TYPE_CHECKING:
    import sqlite3

RESULTS_DIR = Path(".cmpkg") / "results"
RECORDS = "records"
DATABASE = "results.db"
SCHEMA_VERSION = 1
_TYPES = {"exit_code": "INTEGER", "valid": "INTEGER", "attempt": "INTEGER"}
_REAL = {"value", "samples_per_s", "tokens_per_s", "accuracy", "accuracy_target"}


def default_dir(cwd: Path, home: Path) -> Path:
    """The project's results dir (nearest cmpkg.toml at or above cwd), else CMPKG_HOME's."""
    from cmpkg.project import find

    manifest = find(cwd)
    return manifest.parent / RESULTS_DIR if manifest else home / "results"


def _column_type(name: str) -> str:
    if name in _TYPES:
        return _TYPES[name]
    return "REAL" if name in _REAL or name.endswith("_ns") else "TEXT"


def _schema() -> str:
    columns = ",\n  ".join(
        f"{name} {_column_type(name)}{' PRIMARY KEY' if name == 'run_id' else ''}"
        for name in COLUMNS
    )
    return f"CREATE TABLE IF NOT EXISTS runs (\n  {columns}\n)"


class Results:
    """The records directory and its database."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.records = directory / RECORDS
        self.path = directory / DATABASE

    def write_record(self, record: RunRecord) -> Path:
        """The run's own file (never shared with another writer)."""
        path = self.records / f"{record.run_id}.json"
        atomic.write_text(path, json.dumps(record.row(), indent=1, sort_keys=True) + "\n")
        return path

    def merge(self) -> int:
        """Add every record file not yet in the database; how many were added."""
        if not self.records.is_dir():
            return 0
        from filelock import FileLock

        self.dir.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.dir / ".merge.lock")), self._connect() as db:
            known = {row[0] for row in db.execute("SELECT run_id FROM runs")}
            rows = [r for r in self._read_records(known)]
            placeholders = ", ".join("?" for _ in COLUMNS)
            db.executemany(
                f"INSERT OR REPLACE INTO runs ({', '.join(COLUMNS)}) VALUES ({placeholders})",
                [[row.get(c) for c in COLUMNS] for row in rows],
            )
            return len(rows)

    def _read_records(self, known: set[str]) -> Iterator[dict[str, Any]]:
        for path in sorted(self.records.glob("*.json")):
            if path.stem in known:
                continue
            try:
                yield json.loads(path.read_text())
            except (OSError, ValueError):
                continue  # a foreign or damaged file: skipped, the others still merge

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        import sqlite3  # here: `cmpkg run` writes records through this module

        try:
            with closing(sqlite3.connect(self.path, timeout=30)) as db, db:
                db.execute(_schema())
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
                yield db
        except sqlite3.DatabaseError as error:
            raise CmpkgError(
                "bad-results-db",
                f"{self.path}: {error}",
                hint=f"it is rebuilt from {self.records}: delete it and run the command again",
            ) from None

    def select(self, where: str = "", params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """Rows (merged first), oldest first; `where` is SQL built by `cmpkg.results.query`."""
        self.merge()
        if not self.path.exists():
            return []
        import sqlite3

        with self._connect() as db:
            db.row_factory = sqlite3.Row
            sql = (
                f"SELECT * FROM runs {('WHERE ' + where) if where else ''} ORDER BY started, run_id"
            )
            return [dict(row) for row in db.execute(sql, list(params))]
