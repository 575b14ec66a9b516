"""One redis-py asyncio client per process, with timeouts short enough to fail fast."""

from __future__ import annotations

from typing import TYPE_CHECKING

from taskwell.settings import Settings

if TYPE_CHECKING:
    from redis.asyncio import Redis


def make_redis(settings: Settings) -> Redis:
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    assert settings.redis_url is not None
    # No retries inside redis-py: callers decide (fail open, fail closed, grace) at once.
    return Redis.from_url(
        settings.redis_url,
        socket_timeout=settings.redis_timeout_seconds,
        socket_connect_timeout=settings.redis_timeout_seconds,
        max_connections=settings.redis_max_connections,
        health_check_interval=30,
        retry=Retry(NoBackoff(), 0),
    )
