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


async def test_a_steady_crowd_of_commands_is_served_first_come_first_served(
    redis_url: str | None,
) -> None:
    """Three times more callers than connections, each sending command after command: with
    redis-py's blocking pool some starved until their timeout ("No connection available")."""
    if redis_url is None:
        pytest.skip("needs Redis (the PostgreSQL + Redis run)")
    redis = make_redis(
        Settings(redis_url=redis_url, redis_max_connections=2, redis_timeout_seconds=0.1)
    )
    script = redis.register_script("return redis.call('INCR', KEYS[1])")
    key = f"test:crowd:{uuid.uuid4()}"

    async def caller() -> int:
        for _ in range(400):
            await script(keys=[key])
        return 400

    try:
        done = await asyncio.gather(*(caller() for _ in range(12)))
        assert int(await redis.get(key)) == sum(done) == 4800
        await redis.delete(key)
    finally:
        await redis.aclose()
