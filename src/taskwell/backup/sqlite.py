"""SQLite backups through the online backup API: consistent while the service writes (WAL)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

from taskwell.backup.errors import BackupError
from taskwell.settings import Settings


def database_path(database_url_path: str | None) -> Path:
    """The file an `sqlite+aiosqlite:///PATH` URL names, resolved as aiosqlite would (from
    the working directory)."""
    if not database_url_path or database_url_path == ":memory:":
        raise BackupError("the configured SQLite database lives in memory: nothing to back up")
    return Path(database_url_path).expanduser().resolve()


def backup(database: Path, destination: Path, busy_timeout_ms: int) -> None:
    """Copy `database` into the (empty) file `destination`.

    One backup step copies every page inside one read transaction, so the copy is a
    consistent snapshot; in WAL mode the service's writers carry on meanwhile.
    """
    if not database.is_file():
        raise BackupError(f"no SQLite database at {database}")
    try:
        with (
            _connect(database, busy_timeout_ms) as source,
            _connect(destination, busy_timeout_ms) as copy,
        ):
            source.backup(copy)
            # The copy inherits WAL mode from the header; a standalone file should not need
            # -wal/-shm companions when it is opened, so it goes back to a rollback journal.
            copy.execute("PRAGMA journal_mode=DELETE")
    except sqlite3.Error as exc:
        raise BackupError(f"copying {database} failed: {exc}") from exc


def inspect(path: Path) -> str | None:
    """Check a backup file page by page and return its schema revision (None: no schema)."""
    try:
        with _connect_read_only(path) as conn:
            problems = [row[0] for row in conn.execute("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise BackupError(f"{path} fails its integrity check: {'; '.join(problems[:5])}")
            has_versions = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
            if not has_versions:
                return None
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            return str(row[0]) if row else None
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}") from exc


def restore(backup_file: Path, database: Path, busy_timeout_ms: int) -> None:
    """Copy `backup_file` over the live `database` through SQLite itself.

    The backup API writes inside one write transaction on the live database: readers see
    the old or the new contents, never a mix, and a crash leaves the old one; its WAL and
    shared-memory files stay consistent, which replacing the file by rename would not.
    """
    if not database.exists():
        _create_empty(database)
    try:
        with _connect_read_only(backup_file) as source, _connect(database, busy_timeout_ms) as live:
            source.backup(live)
    except sqlite3.Error as exc:
        raise BackupError(f"restoring into {database} failed: {exc}") from exc


def _create_empty(database: Path) -> None:
    leftovers = [p for p in (Path(f"{database}-wal"), Path(f"{database}-shm")) if p.exists()]
    if leftovers:
        # A -wal without its database belongs to the deleted one; SQLite would replay it
        # onto the restored file.
        names = ", ".join(str(p) for p in leftovers)
        raise BackupError(f"{database} is missing but {names} is left over; move it away first")
    if not database.parent.is_dir():
        raise BackupError(f"{database.parent} is not a directory")
    os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


@contextlib.contextmanager
def _connect(path: Path, busy_timeout_ms: int) -> Iterator[sqlite3.Connection]:
    try:
        conn = sqlite3.connect(path, timeout=busy_timeout_ms / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


@contextlib.contextmanager
def _connect_read_only(path: Path) -> Iterator[sqlite3.Connection]:
    # immutable=1: the backup file is not shared with a writer, so no lock or -shm is needed
    # and nothing is written next to it (it may sit on read-only media).
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open {path}: {exc}") from exc
    try:
        yield conn
    finally:
        conn.close()


class SqliteBackend:
    """Back up and restore the configured SQLite database file."""

    def __init__(self, settings: Settings) -> None:
        self.database = database_path(sa.make_url(settings.database_url).database)
        self.description = f"SQLite database {self.database}"
        self._busy_timeout_ms = settings.sqlite_busy_timeout_ms

    def dump(self, destination: Path) -> None:
        backup(self.database, destination, self._busy_timeout_ms)

    def inspect(self, backup_file: Path) -> str | None:
        return inspect(backup_file)

    def check_restorable(self, backup_file: Path) -> None:
        """Nothing to check: restoring replaces every page of the file, whatever it held."""

    def restore(self, backup_file: Path) -> None:
        restore(backup_file, self.database, self._busy_timeout_ms)
