"""Two requests lined up behind a row lock, deterministically (PostgreSQL).

A third session holds one task's row (what any PATCH of it does for a moment); the first
request starts and waits for it, then the second starts and waits too; then the row is let go
and both run on. The order the two meet each other's locks is then the one the test chose."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from taskwell.db.engine import Database

Request = Callable[[], Awaitable[httpx.Response]]


async def lined_up_behind(
    db: Database, task_id: str, first: Request, second: Request
) -> tuple[httpx.Response, httpx.Response]:
    """Both answers, once the row held at their start has been let go (bounded: 30 s)."""
    engine = create_async_engine(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        async with engine.connect() as holder, engine.connect() as watcher:
            await watcher.execution_options(isolation_level="AUTOCOMMIT")
            held = await holder.begin()
            await holder.execute(
                sa.text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": task_id}
            )
            one = asyncio.create_task(first())
            await _until_waiting(watcher, 1)
            two = asyncio.create_task(second())
            await _until_waiting(watcher, 2, two)
            await held.commit()
            first_answer, second_answer = await asyncio.wait_for(
                asyncio.gather(one, two), timeout=30
            )
    finally:
        await engine.dispose()
    return first_answer, second_answer


async def _lock_waiters(conn: AsyncConnection) -> int:
    found = await conn.execute(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
    )
    return int(found.scalar_one())


async def _until_waiting(
    conn: AsyncConnection, count: int, finished: asyncio.Task[httpx.Response] | None = None
) -> None:
    """Until `count` sessions wait on a lock (or `finished` is done: it had none to wait for)."""
    for _ in range(200):  # bounded: 10 s at most
        if await _lock_waiters(conn) >= count or (finished is not None and finished.done()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {count} sessions waiting on a lock")
