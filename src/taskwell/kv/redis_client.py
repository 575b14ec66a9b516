"""One redis-py asyncio client per process, with timeouts short enough to fail fast."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from taskwell.concurrency import Slots
from taskwell.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def make_redis(settings: Settings) -> Redis:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    assert settings.redis_url is not None
    pool = _fair_pool_class().from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        # No retries inside redis-py: callers decide (fail open, fail closed, grace) at once.
        retry=Retry(NoBackoff(), 0),
    )
    pool.wait_seconds = settings.redis_timeout_seconds
    return Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool


_FAIR_POOL: type[Any] | None = None


def _fair_pool_class() -> type[Any]:
    """redis-py's pool, with commands queueing first come, first served for a connection.

    With more commands in flight than TASKWELL_REDIS_MAX_CONNECTIONS, redis-py's default pool
    raises "Too many connections", and its blocking pool lets newcomers take a released
    connection before those already waiting, so under steady load some commands starve until
    their timeout (seen: "No connection available"). Either way rate limits failed open and
    cache reads missed. Here a FIFO gate of the pool's size admits commands, so the pool
    beneath never runs out and nobody is overtaken. Built on first use: redis is optional."""
    global _FAIR_POOL
    if _FAIR_POOL is not None:
        return _FAIR_POOL
    from redis.asyncio import ConnectionPool
    from redis.asyncio.connection import AbstractConnection
    from redis.exceptions import ConnectionError as RedisConnectionError

    class FairConnectionPool(ConnectionPool):
        wait_seconds = 1.0

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._slots: Slots | None = None
            self._holding: set[int] = set()  # ids of connections handed out through the gate

        async def get_connection(self, *args: Any, **kwargs: Any) -> AbstractConnection:
            if self._slots is None:
                self._slots = Slots(self.max_connections, self.wait_seconds)
            try:
                await self._slots.acquire()
            except TimeoutError:
                raise RedisConnectionError(
                    f"no Redis connection free within {self.wait_seconds} s "
                    f"(TASKWELL_REDIS_MAX_CONNECTIONS={self.max_connections})"
                ) from None
            try:
                connection: AbstractConnection = await super().get_connection(  # type: ignore[no-untyped-call]
                    *args, **kwargs
                )
            except BaseException:
                # redis-py released the connection itself (not through the gate): free the slot.
                self._slots.release()
                raise
            self._holding.add(id(connection))
            return connection

        async def release(self, connection: AbstractConnection) -> None:
            try:
                await super().release(connection)
            finally:
                if id(connection) in self._holding and self._slots is not None:
                    self._holding.discard(id(connection))
                    self._slots.release()

    _FAIR_POOL = FairConnectionPool
    return _FAIR_POOL
