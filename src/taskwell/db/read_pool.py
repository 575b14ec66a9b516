"""PostgreSQL's read pool: prepared reads straight on an asyncpg pool.

SQLAlchemy's pool checkout and check-in (AsyncEngine.connect, get_raw_connection, close: greenlet
hops and pool events) cost about as much CPU as the list query's round trip itself
(docs/benchmarks.md), so the hot reads do not go through it on PostgreSQL. Writes and
everything transactional keep using the engine; each pool has its own size in settings
(TASKWELL_DB_POOL_SIZE for the engine, TASKWELL_DB_READ_POOL_SIZE here). Both connect with the
same arguments (address, credentials, TLS, statement cache), derived from the engine's URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import asyncpg
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine

from taskwell.concurrency import Slots
from taskwell.observability.metrics import DB_CONNECTIONS_IN_USE
from taskwell.settings import Settings

log = logging.getLogger("taskwell.db")
# How long shutdown waits for connections in use to come back before cutting them.
CLOSE_WAIT_SECONDS = 10.0

# SQLAlchemy's own options in its asyncpg connect arguments; asyncpg.connect knows none of them.
_SQLALCHEMY_ONLY = (
    "prepared_statement_cache_size",
    "prepared_statement_name_func",
    "async_fallback",
)


async def _no_reset(_: asyncpg.Connection) -> None:
    """By default asyncpg resets a connection on release (one more round trip per read).
    These connections only ever run single SELECTs outside transactions: nothing to reset."""


def _is_dead(connection: asyncpg.Connection) -> bool:
    """Whether the connection died under the read (server restart, PgBouncer restart)."""
    try:
        return bool(connection.is_closed())
    except asyncpg.InterfaceError:
        # asyncpg already took a lost connection back from its proxy.
        return True


_CUSTOM_PLAN = "SET LOCAL plan_cache_mode = force_custom_plan"


class ReadPool:
    """One asyncpg pool: the primary's for the hot reads, or one replica's (db/replicas.py)."""

    def __init__(
        self,
        engine: AsyncEngine,
        url: sa.URL,
        settings: Settings,
        connect_args: dict[str, Any],
        *,
        size: int,
        size_setting: str,
    ) -> None:
        # SQLAlchemy's dialect turns the URL into asyncpg.connect's arguments, as for the engine.
        _, kwargs = engine.dialect.create_connect_args(url)
        for name in _SQLALCHEMY_ONLY:
            kwargs.pop(name, None)
        self._connect = {**kwargs, **connect_args}
        self._size = size
        self._size_setting = size_setting
        self._timeout = settings.db_pool_timeout_seconds
        self._idle_lifetime = max(0, settings.db_pool_recycle_seconds)
        self._pool: asyncpg.Pool | None = None
        self._opening: asyncio.Lock | None = None
        # Readers queue fairly here; past it a connection is always free in the pool.
        self._slots = Slots(self._size, self._timeout)

    @property
    def connect_arguments(self) -> dict[str, Any]:
        """What asyncpg.connect needs to reach this pool's server (for a connection of its own)."""
        return dict(self._connect)

    async def _open(self) -> asyncpg.Pool:
        if self._opening is None:
            self._opening = asyncio.Lock()
        async with self._opening:
            if self._pool is None:
                # min_size 0: connections open on demand and close after idling, so an idle
                # instance holds none.
                self._pool = await asyncpg.create_pool(
                    min_size=0,
                    max_size=self._size,
                    max_inactive_connection_lifetime=self._idle_lifetime,
                    reset=_no_reset,
                    timeout=self._timeout,  # to connect
                    **self._connect,
                )
            return self._pool

    async def fetch(
        self, sql: str, args: Sequence[Any], attempts: int, *, custom_plan: bool = False
    ) -> list[asyncpg.Record]:
        """Run one read. A connection that died in the pool (database restart, failover) is
        dropped and the read tried again on a fresh one: a read is safe to repeat."""
        pool = self._pool or await self._open()
        try:
            await self._slots.acquire()
        except TimeoutError:
            # The same error as the engine's pool gives: answered 503 database-unavailable.
            raise sa_exc.TimeoutError(
                f"no read connection free within {self._timeout} s "
                f"({self._size_setting}={self._size})"
            ) from None
        try:
            for attempt in range(1, attempts + 1):
                # Never waits for another reader (the slots see to that); no timer needed.
                connection = await pool.acquire()
                DB_CONNECTIONS_IN_USE.enter()
                try:
                    rows: list[asyncpg.Record]
                    if custom_plan:
                        # SET LOCAL lasts this transaction only (safe behind PgBouncer).
                        async with connection.transaction(readonly=True):
                            await connection.execute(_CUSTOM_PLAN)
                            rows = await connection.fetch(sql, *args)
                    else:
                        rows = await connection.fetch(sql, *args)
                    return rows
                except Exception:
                    if attempt < attempts and _is_dead(connection):
                        continue
                    raise
                finally:
                    DB_CONNECTIONS_IN_USE.leave()
                    await pool.release(connection)
            raise AssertionError("unreachable")
        finally:
            self._slots.release()

    async def close(self) -> None:
        """Close the connections once the ones in use come back, for at most
        CLOSE_WAIT_SECONDS: asyncpg's own close waits for every acquired connection without
        limit, so one request stuck on the database would hold the process's shutdown (and
        did hold a test run's) forever. After that, they are cut."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                await asyncio.wait_for(pool.close(), CLOSE_WAIT_SECONDS)
            except TimeoutError:
                log.warning("read pool: connections still in use at shutdown; closing them")
                pool.terminate()
