"""The app's Redis client under more concurrent commands than it has connections."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from taskwell.kv.ratelimit import RateLimiter, make_storage
from taskwell.kv.redis_client import make_redis
from taskwell.observability.metrics import RATE_LIMIT_STORE_ERRORS
from taskwell.settings import Settings


async def test_commands_wait_for_a_free_connection_instead_of_failing(
    redis_url: str | None,
) -> None:
    if redis_url is None:
        pytest.skip("needs Redis (the PostgreSQL + Redis run)")
    redis = make_redis(Settings(redis_url=redis_url, redis_max_connections=2))
    limiter = RateLimiter(make_storage(redis), {"default": "1000/minute"}, frozenset())
    errors = RATE_LIMIT_STORE_ERRORS.labels("default", "open")
    before = errors._value.get()
    clients = [str(uuid.uuid4()) for _ in range(3)]
    try:
        decisions = await asyncio.gather(
            *(limiter.check("default", clients[i % 3]) for i in range(60))
        )
        in_use = len(redis.connection_pool._in_use_connections)  # type: ignore[attr-defined]
    finally:
        await redis.aclose()
    # Every check reached Redis: none failed open for want of a connection.
    assert errors._value.get() == before
    # And each was counted: every client's 20 requests saw 999 down to 980 left.
    assert sorted(d.remaining for d in decisions) == sorted(list(range(980, 1000)) * 3)
    assert in_use == 0
