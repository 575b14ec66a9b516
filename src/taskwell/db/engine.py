"""The engine, its pool and per-backend connection set-up, plus the fast read path."""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any
from uuid import UUID

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry

from taskwell.db.prepared import PreparedQuery
from taskwell.db.read_pool import ReadPool
from taskwell.db.replicas import (
    MemoryWriteMarks,
    RedisWriteMarks,
    Replica,
    ReplicaSet,
    WriteMarks,
    replica_names,
)
from taskwell.observability.metrics import DB_CONNECTIONS_IN_USE, DB_DURATION, DB_POOL_SIZE
from taskwell.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis

# Dead pooled connections found by one read before it gives up (each is dropped).
_READ_ATTEMPTS = 3


def _asyncpg_connect_args(settings: Settings, url: sa.URL) -> dict[str, Any]:
    """What asyncpg.connect gets besides the URL's own parts, on both pools."""
    # Behind PgBouncer in transaction mode this must be 0 (docs/scaling.md).
    connect_args: dict[str, Any] = {"statement_cache_size": settings.db_statement_cache_size}
    # The setting decides, "disable" included (asyncpg's default would try TLS unverified
    # or follow PGSSLMODE), unless a legacy URL carries ssl= itself; settings refuse both.
    if not {"ssl", "sslmode"} & url.query.keys():
        connect_args["ssl"] = _ssl_context(settings)
    return connect_args


def make_engine(settings: Settings) -> AsyncEngine:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(url, pool_pre_ping=False)
        _configure_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    connect_args: dict[str, Any] = {}
    if url.get_driver_name() == "asyncpg":
        connect_args = _asyncpg_connect_args(settings, url)
        url = url.update_query_dict(
            {"prepared_statement_cache_size": str(settings.db_statement_cache_size)}
        )
    elif settings.database_ssl_mode != "disable":
        # Better to refuse than to connect in clear text while TLS was asked for.
        raise ValueError(
            f"TASKWELL_DATABASE_SSL_MODE is applied with the asyncpg driver only, "
            f"not {url.get_driver_name()}; use postgresql+asyncpg://"
        )
    return create_async_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        # Pre-ping would add a round trip to every checkout; the write path's SQLAlchemy
        # invalidates dead connections on use, and Database.fetch retries reads once.
        pool_pre_ping=False,
        pool_recycle=settings.db_pool_recycle_seconds,
        connect_args=connect_args,
    )


def _ssl_context(settings: Settings) -> ssl.SSLContext | bool:
    """TASKWELL_DATABASE_SSL_MODE as asyncpg's `ssl=`, with libpq's meaning of each mode."""
    mode = settings.database_ssl_mode
    if mode == "disable":
        return False
    if mode == "require":
        # Encrypted but unauthenticated: stops passive eavesdropping, not an impostor.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        # Only the configured CA is trusted, as with libpq's sslrootcert.
        context = ssl.create_default_context(cafile=settings.database_ssl_root_cert)
        context.check_hostname = mode == "verify-full"
        context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2  # ASVS 12.1.1
    return context


# The execution option that marks a SQLite connection's transactions as writes (BEGIN
# IMMEDIATE); without it a transaction begins deferred, as a read.
SQLITE_WRITER = "taskwell_sqlite_writer"


def _lower(value: object) -> object:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
        # Autocommit at the driver: plain reads need no transaction, and writes open
        # BEGIN IMMEDIATE below so two writers queue on the busy timeout instead of
        # failing on a read-to-write lock upgrade.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's own lower() folds ASCII only, so "äpfel" would not find "Äpfel" as it does
        # on PostgreSQL (ILIKE compiles to lower() LIKE lower() here).
        dbapi_connection.create_function("lower", 1, _lower, deterministic=True)

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: sa.Connection) -> None:
        # A writer (Database.transaction, migrations) takes the write lock at BEGIN, queueing
        # on the busy timeout. Anything else only reads: a deferred BEGIN gives it its
        # snapshot and, in WAL mode, no lock a writer waits for. Reads that took the write
        # lock too (the event stream's pages, the worker's polls, access checks) queued with
        # the writers, and on a busy machine a write could wait out the busy timeout behind
        # them (a 503; tests/db/test_sqlite_locking.py).
        immediate = conn.get_execution_options().get(SQLITE_WRITER, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _instrument_pool(engine: AsyncEngine, settings: Settings, reads: ReadPool | None) -> None:
    pool = engine.sync_engine.pool
    size = pool.size() + settings.db_max_overflow if hasattr(pool, "size") else 1
    DB_POOL_SIZE.set(size + (settings.db_read_pool_size if reads is not None else 0))
    event.listen(pool, "checkout", lambda *_: DB_CONNECTIONS_IN_USE.enter())
    event.listen(pool, "checkin", lambda *_: DB_CONNECTIONS_IN_USE.leave())


def _replica_set(
    engine: AsyncEngine, settings: Settings, primary: ReadPool, redis: Redis | None
) -> ReplicaSet | None:
    if not settings.replica_urls:
        return None
    replicas = [
        Replica(
            name,
            ReadPool(
                engine,
                url,
                settings,
                _asyncpg_connect_args(settings, url),
                size=settings.db_replica_pool_size,
                size_setting="TASKWELL_DB_REPLICA_POOL_SIZE",
            ),
        )
        for url, name in replica_names(settings.replica_urls)
    ]
    marks: WriteMarks = MemoryWriteMarks() if redis is None else RedisWriteMarks(redis)
    return ReplicaSet(
        primary,
        replicas,
        marks,
        max_lag_seconds=settings.db_replica_max_lag_seconds,
        check_interval_seconds=settings.db_replica_check_interval_seconds,
    )


class Database:
    """The one handle features use: transactions for writes, prepared reads for hot paths.

    With read replicas configured, reads that name a reader may be served by a replica that has
    replayed that reader's writes, and transactions that name one record its write (see
    db/replicas.py); everything else uses the primary.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        reads: ReadPool | None = None,
        replicas: ReplicaSet | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.is_sqlite = engine.dialect.name == "sqlite"
        # The same pool; its transactions are writes (on SQLite: BEGIN IMMEDIATE).
        self._writer = engine.execution_options(**{SQLITE_WRITER: True})
        self._reads = reads
        self.replicas = replicas
        self._read_duration = DB_DURATION.labels("read")
        self._replica_read_duration = DB_DURATION.labels("replica_read")
        self._transaction_duration = DB_DURATION.labels("transaction")

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis | None = None) -> Database:
        """Redis (when configured) shares read-your-writes marks between instances."""
        engine = make_engine(settings)
        reads = replicas = None
        if engine.dialect.driver == "asyncpg":
            reads = ReadPool(
                engine,
                engine.url,
                settings,
                _asyncpg_connect_args(settings, engine.url),
                size=settings.db_read_pool_size,
                size_setting="TASKWELL_DB_READ_POOL_SIZE",
            )
            replicas = _replica_set(engine, settings, reads, redis)
        _instrument_pool(engine, settings, reads)
        return cls(engine, reads, replicas)

    async def dispose(self) -> None:
        if self.replicas is not None:
            await self.replicas.close()
        if self._reads is not None:
            await self._reads.close()
        await self.engine.dispose()

    @asynccontextmanager
    async def transaction(self, *, reader: UUID | None = None) -> AsyncIterator[AsyncConnection]:
        """One transaction on the primary. `reader`: whose next reads must see this write once
        it has committed (with replicas: they use the primary until a replica has replayed it)."""
        started = time.perf_counter()
        try:
            async with self._writer.begin() as conn:
                yield conn
        finally:
            self._transaction_duration.observe(time.perf_counter() - started)
        if reader is not None and self.replicas is not None:
            await self.replicas.note_write(str(reader))

    async def ping(self) -> None:
        """One trivial round trip; raises when the database cannot be reached."""
        async with self.engine.connect() as conn:
            await conn.execute(sa.text("SELECT 1"))

    def prepare(self, statement: sa.Select[Any], *, custom_plan: bool = False) -> PreparedQuery:
        return PreparedQuery.compile(statement, self.dialect, custom_plan=custom_plan)

    async def fetch(
        self,
        query: PreparedQuery,
        params: Mapping[str, Any] | None = None,
        *,
        reader: UUID | None = None,
    ) -> Sequence[Sequence[Any]]:
        """Run a prepared read straight on the driver: no ORM, no per-row wrapper objects.

        This is the hot path (see docs/benchmarks.md): SQLAlchemy builds and compiles the
        statement once per shape, then each call costs one pool checkout and one round trip.
        Rows are indexable by column position (tuples, or asyncpg's records).

        `reader`: the user the rows are read for; naming one lets a replica serve the read once
        it has replayed that user's writes. Reads that must be current for everyone (sessions,
        account state, checks before a write) name none and use the primary.
        """
        args = query.bind(params or {})
        if reader is not None and self.replicas is not None:
            replica = await self.replicas.choose(str(reader))
            if replica is not None:
                started = time.perf_counter()
                try:
                    return await replica.pool.fetch(
                        query.sql, args, _READ_ATTEMPTS, custom_plan=query.custom_plan
                    )
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    # Down, restarting, or cancelled by recovery: the primary answers instead.
                    self.replicas.failed(replica, exc)
                finally:
                    self._replica_read_duration.observe(time.perf_counter() - started)
        started = time.perf_counter()
        try:
            if self._reads is not None:
                try:
                    return await self._reads.fetch(
                        query.sql, args, _READ_ATTEMPTS, custom_plan=query.custom_plan
                    )
                except (sa_exc.TimeoutError, asyncio.CancelledError):
                    raise
                except Exception as exc:
                    # Callers see the same error type as on the SQLAlchemy path.
                    raise DBAPIError(query.sql, args, exc) from exc
            return await self._fetch(query, args)
        finally:
            self._read_duration.observe(time.perf_counter() - started)

    async def _fetch(self, query: PreparedQuery, args: list[Any]) -> list[tuple[Any, ...]]:
        # A read is safe to repeat: a connection that died in the pool is dropped and the
        # read tried once more on a fresh one. This replaces pool_pre_ping, which would cost
        # a round trip on every checkout.
        for attempt in range(1, _READ_ATTEMPTS + 1):
            async with self.engine.connect() as conn:
                fairy = await conn.get_raw_connection()
                driver: Any = fairy.driver_connection
                try:
                    if self.is_sqlite:
                        raw_rows: Sequence[Any] = await driver.execute_fetchall(query.sql, args)
                    else:
                        raw_rows = await driver.fetch(query.sql, *args)
                    return query.load(raw_rows)
                except Exception as exc:
                    if not self.is_sqlite and driver.is_closed():
                        await conn.invalidate()
                        if attempt < _READ_ATTEMPTS:
                            continue
                    raise DBAPIError(query.sql, args, exc) from exc
        raise AssertionError("unreachable")

    async def fetch_one(
        self,
        query: PreparedQuery,
        params: Mapping[str, Any] | None = None,
        *,
        reader: UUID | None = None,
    ) -> Sequence[Any] | None:
        rows = await self.fetch(query, params, reader=reader)
        return rows[0] if rows else None
