"""The embedded database's locks: writers take turns (BEGIN IMMEDIATE, queueing on the busy
timeout); reads take no lock a writer waits for, and wait for none (WAL, deferred BEGIN)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskwell.db.engine import Database
from taskwell.settings import Settings

# Far longer than any wait below: a read that queued behind the writer would still be waiting.
BUSY_TIMEOUT_MS = 30_000


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'locks.db'}"
    database = Database.from_settings(
        Settings(database_url=url, sqlite_busy_timeout_ms=BUSY_TIMEOUT_MS)
    )
    async with database.transaction() as conn:
        await conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        await conn.execute(sa.text("INSERT INTO t VALUES (1)"))
    try:
        yield database
    finally:
        await database.dispose()


async def _read(database: Database) -> list[int]:
    async with database.engine.connect() as conn:
        first = (await conn.execute(sa.text("SELECT x FROM t ORDER BY x"))).scalars().all()
        # One snapshot for the whole connection: a second statement sees the same rows.
        again = (await conn.execute(sa.text("SELECT x FROM t ORDER BY x"))).scalars().all()
        assert again == first
        return list(first)


async def test_a_read_does_not_wait_for_a_writer(db: Database) -> None:
    async with db.transaction() as writer:
        await writer.execute(sa.text("INSERT INTO t VALUES (2)"))
        # Before: every transaction began IMMEDIATE, so this read queued behind the writer
        # (which waits for it here) until the busy timeout.
        seen = await asyncio.wait_for(_read(db), timeout=5.0)
    assert seen == [1]  # what was committed; the writer's row once it commits
    assert await _read(db) == [1, 2]


async def test_a_writer_does_not_wait_for_a_read(db: Database) -> None:
    async with db.engine.connect() as reader:
        before = (await reader.execute(sa.text("SELECT x FROM t"))).scalars().all()

        async def write() -> None:
            async with db.transaction() as conn:
                await conn.execute(sa.text("INSERT INTO t VALUES (3)"))

        await asyncio.wait_for(write(), timeout=5.0)
        during = (await reader.execute(sa.text("SELECT x FROM t"))).scalars().all()
    assert before == during == [1]  # the reader's snapshot holds
    assert await _read(db) == [1, 3]


async def test_writers_still_take_turns(db: Database) -> None:
    """A second writer waits for the first (it does not fail on a stale snapshot), then
    writes on what the first committed."""
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def first() -> None:
        async with db.transaction() as conn:
            await conn.execute(sa.text("UPDATE t SET x = x + 10"))
            first_in.set()
            await release.wait()

    async def second() -> None:
        await first_in.wait()
        async with db.transaction() as conn:
            value = (await conn.execute(sa.text("SELECT max(x) FROM t"))).scalar_one()
            await conn.execute(sa.text("INSERT INTO t VALUES (:x)"), {"x": value + 1})

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await first_in.wait()
    await asyncio.sleep(0.2)  # the second is waiting for the lock by now
    assert not two.done()
    release.set()
    await asyncio.wait_for(asyncio.gather(one, two), timeout=10.0)
    assert await _read(db) == [11, 12]
