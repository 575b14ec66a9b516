"""Alembic environment: runs migrations over the app's own async engine."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

from taskwell.db.engine import SQLITE_WRITER, make_engine
from taskwell.db.schema import include_object, metadata
from taskwell.settings import Settings

config = context.config


def _settings() -> Settings:
    settings = config.attributes.get("settings")
    return settings if isinstance(settings, Settings) else Settings()


def _sqlite_foreign_keys(connection: Connection, on: bool) -> None:
    """SQLite's batch migrations copy a table and drop the old one, and dropping a table with
    foreign keys on deletes its rows first, cascading into the tables that point at it (a
    users rebuild would take every project and task with it). So they run with foreign keys
    off, and a check afterwards makes sure they left none dangling. On the driver's own
    connection: the app's engine opens a transaction on every statement, and SQLite ignores
    this pragma inside one."""
    cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        if on:
            cursor.execute("PRAGMA foreign_key_check")
            dangling = cursor.fetchall()
            if dangling:
                raise RuntimeError(
                    f"migration left rows with dangling foreign keys: {dangling[:5]}"
                )
        cursor.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")
    finally:
        cursor.close()


def _run(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite and not connection.in_transaction():
        _sqlite_foreign_keys(connection, on=False)
        try:
            _migrate(connection)
        finally:
            connection.commit()
            _sqlite_foreign_keys(connection, on=True)
        return
    _migrate(connection)


def _migrate(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        # Search's FTS5 tables and indexes (0007), the label mirror (0013): migrations only.
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = make_engine(_settings())
    try:
        async with engine.connect() as connection:
            await connection.execution_options(**{SQLITE_WRITER: True})
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_online())


run()
