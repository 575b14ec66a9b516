"""PostgreSQL's prepared reads run on their own asyncpg pool (db/read_pool.py)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc

from taskwell.db.engine import Database
from taskwell.settings import Settings

_SLEEPY = sa.select(
    sa.func.pg_backend_pid().label("pid"),
    sa.func.pg_sleep(sa.bindparam("seconds", type_=sa.Float)).label("slept"),
)


@pytest.fixture
def pg_settings(settings_factory: Callable[..., Settings]) -> Settings:
    settings = settings_factory(db_read_pool_size=2, db_pool_timeout_seconds=0.3)
    if settings.is_sqlite:
        pytest.skip("the read pool is PostgreSQL's")
    return settings


@pytest.fixture
async def db(pg_settings: Settings) -> AsyncIterator[Database]:
    database = Database.from_settings(pg_settings)
    try:
        yield database
    finally:
        await database.dispose()


async def test_reads_use_their_own_pool_of_the_configured_size(db: Database) -> None:
    query = db.prepare(_SLEEPY)
    rows = await asyncio.gather(*(db.fetch(query, {"seconds": 0.05}) for _ in range(6)))
    pids = {found[0][0] for found in rows}
    assert 1 <= len(pids) <= 2
    # The engine's pool (writes and transactions) never opened a connection.
    assert "Connections in pool: 0 Current Overflow: -10" in db.engine.sync_engine.pool.status()


async def test_a_read_waits_at_most_the_pool_timeout(db: Database) -> None:
    query = db.prepare(_SLEEPY)
    busy = [asyncio.create_task(db.fetch(query, {"seconds": 1.0})) for _ in range(2)]
    await asyncio.sleep(0.1)
    with pytest.raises(sa_exc.TimeoutError, match="TASKWELL_DB_READ_POOL_SIZE=2"):
        await db.fetch(query, {"seconds": 0})
    await asyncio.gather(*busy)
    # Freed again: the next read goes through.
    assert len(await db.fetch(query, {"seconds": 0})) == 1


async def test_a_failed_read_is_a_dbapi_error_like_on_the_engine(db: Database) -> None:
    broken = db.prepare(sa.select(sa.text("no_such_column")).select_from(sa.text("users")))
    with pytest.raises(sa_exc.DBAPIError):
        await db.fetch(broken)


async def test_reads_survive_their_connections_being_terminated(
    db: Database, database_backend: str
) -> None:
    if database_backend == "pgbouncer":
        pytest.skip("PgBouncer owns the server connections; the pool's client ones stay up")
    query = db.prepare(_SLEEPY)
    first = await db.fetch(query, {"seconds": 0})
    async with db.engine.connect() as conn:
        await conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first[0][0]})
    await asyncio.sleep(0.1)
    again = await db.fetch(query, {"seconds": 0})
    assert again[0][0] != first[0][0]


async def test_filtered_lists_are_planned_for_their_own_values(db: Database) -> None:
    """A query prepared with custom_plan runs with plan_cache_mode=force_custom_plan for that
    read only; the next read on the same connection has the server's default again."""
    mode = sa.select(sa.func.current_setting("plan_cache_mode").label("mode"))
    custom, generic = db.prepare(mode, custom_plan=True), db.prepare(mode)
    for _ in range(3):
        assert (await db.fetch(custom))[0][0] == "force_custom_plan"
        assert (await db.fetch(generic))[0][0] == "auto"


def test_only_filtered_list_shapes_ask_for_custom_plans() -> None:
    from taskwell.tasks.repository import ListQuery

    owner = uuid.uuid4()
    assert not ListQuery(user_id=owner).shape().filtered
    assert not ListQuery(user_id=owner, sort="-priority").shape().filtered
    for filtered in (
        ListQuery(user_id=owner, project_id=owner),
        ListQuery(user_id=owner, labels=(owner,)),
        ListQuery(user_id=owner, statuses=("done",)),
        ListQuery(user_id=owner, text="x"),
    ):
        assert filtered.shape().filtered


async def test_closing_does_not_wait_forever_for_a_read_in_progress(
    pg_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """asyncpg's Pool.close waits, without limit, for every connection in use: a read stuck on
    the database held the process's shutdown (and a test run) forever. It now waits at most
    CLOSE_WAIT_SECONDS, then cuts the connections."""
    monkeypatch.setattr("taskwell.db.read_pool.CLOSE_WAIT_SECONDS", 0.3)
    database = Database.from_settings(pg_settings)
    stuck = asyncio.create_task(database.fetch(database.prepare(_SLEEPY), {"seconds": 60}))
    await asyncio.sleep(0.3)  # the read holds its connection now
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(database.dispose(), 10)
    assert asyncio.get_running_loop().time() - started < 5
    with pytest.raises(Exception):  # noqa: B017, PT011 - the cut connection's error
        await stuck
