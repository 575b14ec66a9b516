"""One redis-py asyncio client per process, with timeouts short enough to fail fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskwell.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def make_redis(settings: Settings) -> Redis:
    from redis.asyncio import BlockingConnectionPool, Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    assert settings.redis_url is not None
    # Blocking: with more commands in flight than connections, a command waits (up to the
    # timeout) for a free one. The default pool raises "Too many connections" instead, which
    # under load turned into rate limits failing open and cache reads missing.
    pool = BlockingConnectionPool.from_url(
        settings.redis_url,
        max_connections=settings.redis_max_connections,
        timeout=settings.redis_timeout_seconds,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        health_check_interval=30,
        # No retries inside redis-py: callers decide (fail open, fail closed, grace) at once.
        retry=Retry(NoBackoff(), 0),
    )
    return Redis.from_pool(pool)  # the client owns the pool: closing it closes the pool
