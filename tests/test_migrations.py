"""The one migration history goes up from empty to head and back down, on each database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.db.schema import metadata
from taskwell.settings import Settings
from tests.conftest import PG_URL


def _pg_scratch_database() -> Iterator[str]:
    name = f"taskwell_migr_{uuid.uuid4().hex[:12]}"
    admin_url = sa.make_url(PG_URL)

    async def run(statement: str) -> None:
        engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(sa.text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
    elif not PG_URL:
        pytest.skip("TASKWELL_TEST_DATABASE_URL is not set")
    else:
        yield from _pg_scratch_database()


async def _tables(url: str) -> set[str]:
    engine = make_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    return set(names) - {"alembic_version"}


def test_upgrade_from_empty_to_head_then_back_to_base(scratch_url: str) -> None:
    settings = Settings(env="test", database_url=scratch_url)
    assert asyncio.run(_tables(scratch_url)) == set()

    migrate.upgrade(settings)
    assert asyncio.run(_tables(scratch_url)) == set(metadata.tables)

    migrate.downgrade(settings, "base")
    assert asyncio.run(_tables(scratch_url)) == set()

    migrate.upgrade(settings)
    assert asyncio.run(_tables(scratch_url)) == set(metadata.tables)


def test_migrations_match_the_models(scratch_url: str) -> None:
    """Autogenerate finds nothing to add: the models and the history agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    settings = Settings(env="test", database_url=scratch_url)
    migrate.upgrade(settings)

    async def diff() -> list[object]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(MigrationContext.configure(c), metadata)
                )
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []


def _set_revision(path: str, revision: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


async def test_a_schema_newer_than_the_code_is_served_and_an_older_one_refused(
    tmp_path: Path,
) -> None:
    """A rolling deploy: the new release migrated (expand/contract), old instances keep serving
    and stay ready; code newer than the schema refuses to start."""
    import httpx
    from alembic.script import ScriptDirectory

    from taskwell.app import SchemaNotCurrent, create_app

    path = str(tmp_path / "rolling.db")
    settings = Settings(env="test", database_url=f"sqlite+aiosqlite:///{path}")
    await asyncio.to_thread(migrate.upgrade, settings)

    _set_revision(path, "f0f0f0f0f0f0")  # a revision this code has never heard of
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["migrations"] == "ahead"

    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    oldest = list(scripts.walk_revisions())[-1].revision
    _set_revision(path, oldest)
    app = create_app(settings)
    with pytest.raises(SchemaNotCurrent, match="taskwell db upgrade"):
        async with app.router.lifespan_context(app):
            pass
