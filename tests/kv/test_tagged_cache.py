"""The Redis tagged cache: what one read returns and what it refreshes."""

from __future__ import annotations

from redis.asyncio import Redis

from taskwell.kv.cache import EMPTY_TAG, RedisTaggedCache


async def test_a_read_returns_tag_and_entry_and_keeps_the_bucket_alive(redis: Redis) -> None:
    cache = RedisTaggedCache(redis, ttl_seconds=60)
    assert await cache.read("owner", "g", "l:1") == (EMPTY_TAG, None)
    await cache.bump("owner", "g")
    tag, missing = await cache.read("owner", "g", "l:1")
    assert tag != EMPTY_TAG
    assert missing is None
    await cache.store("owner", "l:1", tag, b"page")
    await redis.expire("tw:c:owner", 5)
    assert await cache.read("owner", "g", "l:1") == (tag, b"page")
    assert await redis.ttl("tw:c:owner") > 5  # refreshed to the full time to live
    await cache.bump("owner", "g")
    new_tag, stale = await cache.read("owner", "g", "l:1")
    assert new_tag != tag
    assert stale is None  # made under the old tag: unreachable


async def test_a_read_recovers_after_the_script_cache_is_flushed(redis: Redis) -> None:
    cache = RedisTaggedCache(redis, ttl_seconds=60)
    await cache.read("owner", "g", "l:1")
    await redis.script_flush()
    assert await cache.read("owner", "g", "l:1") == (EMPTY_TAG, None)
