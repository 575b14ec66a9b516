"""`taskwell backup` and `taskwell restore`: pick the backend, check, copy, verify, report."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError

from taskwell.backup.errors import BackupError
from taskwell.backup.files import BackupKind, PartialFile, detect_kind
from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.settings import Settings


class Backend(Protocol):
    description: str

    def dump(self, destination: Path) -> None: ...

    def inspect(self, backup_file: Path) -> str | None:
        """Verify the backup file and return its schema revision."""

    def check_restorable(self, backup_file: Path) -> None: ...

    def restore(self, backup_file: Path) -> None: ...


def configured_kind(settings: Settings) -> BackupKind:
    return BackupKind.sqlite if settings.is_sqlite else BackupKind.postgres


def open_backend(settings: Settings) -> Backend:
    """The configured database's backend; for PostgreSQL this connects (to learn the server's
    version), so an unreachable database fails here, before any file is written."""
    if settings.is_sqlite:
        from taskwell.backup.sqlite import SqliteBackend

        return SqliteBackend(settings)
    from taskwell.backup.postgres import PostgresBackend

    return PostgresBackend(settings)


@dataclass(frozen=True, slots=True)
class BackupReport:
    file: Path
    size: int
    revision: str | None
    database: str


def create_backup(settings: Settings, target: Path, *, force: bool = False) -> BackupReport:
    partial = PartialFile(target, force=force)
    partial.check_target()
    backend = open_backend(settings)
    partial.create()
    try:
        backend.dump(partial.path)
        revision = backend.inspect(partial.path)  # success is reported only for a sound file
        partial.commit()
    except BaseException:
        partial.discard()
        raise
    return BackupReport(target, target.stat().st_size, revision, backend.description)


@dataclass(frozen=True, slots=True)
class RestorePlan:
    """A backup file checked against the configured database, ready to be restored."""

    file: Path
    revision: str | None
    backend: Backend

    @property
    def database(self) -> str:
        return self.backend.description


def plan_restore(settings: Settings, source: Path) -> RestorePlan:
    """Every check that can fail before the live database is touched."""
    kind, expected = detect_kind(source), configured_kind(settings)
    if kind is not expected:
        raise BackupError(
            f"{source} is {kind}, but the configured database needs {expected}; "
            "check TASKWELL_DATABASE_URL and the file"
        )
    backend = open_backend(settings)
    revision = backend.inspect(source)
    if revision is not None and revision not in known_revisions(settings):
        raise BackupError(
            f"{source} holds schema revision {revision}, which this taskwell does not know "
            "(the backup comes from a newer release): restore it with that release"
        )
    backend.check_restorable(source)
    return RestorePlan(source, revision, backend)


@dataclass(frozen=True, slots=True)
class RestoreReport:
    revision: str | None
    head: str | None

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head


def run_restore(settings: Settings, plan: RestorePlan) -> RestoreReport:
    plan.backend.restore(plan.file)
    revision = _current_revision(settings)
    if revision is not None and revision not in known_revisions(settings):
        raise BackupError(
            f"restored, but the database reports schema revision {revision}, which this "
            "taskwell does not know; do not start the service on it"
        )
    return RestoreReport(revision, migrate.head_revision(settings))


def known_revisions(settings: Settings) -> set[str]:
    script = ScriptDirectory.from_config(migrate.alembic_config(settings))
    return {revision.revision for revision in script.walk_revisions()}


def _current_revision(settings: Settings) -> str | None:
    async def read() -> str | None:
        engine = make_engine(settings)
        try:
            return await migrate.current_revision(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(read())
    except (OSError, SQLAlchemyError) as exc:
        raise BackupError(f"restored, but reading the schema revision failed: {exc}") from exc
