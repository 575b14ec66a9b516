"""The tagged cache and read-through caching: never stale, one load per cold key, down = miss."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from taskwell.kv.cache import (
    CachedReads,
    MemoryTaggedCache,
    RedisTaggedCache,
    TaggedCache,
)
from taskwell.kv.errors import StoreUnavailable
from tests.conftest import REDIS_URL


@pytest.fixture(params=["memory", "redis"])
async def cache(request: pytest.FixtureRequest) -> AsyncIterator[TaggedCache]:
    if request.param == "memory":
        yield MemoryTaggedCache(ttl_seconds=60)
        return
    if not REDIS_URL:
        pytest.skip("TASKWELL_TEST_REDIS_URL is not set")
    from redis.asyncio import Redis

    client = Redis.from_url(REDIS_URL)
    await client.flushdb()
    try:
        yield RedisTaggedCache(client, ttl_seconds=60)
    finally:
        await client.aclose()


async def test_a_value_is_served_under_the_tag_it_was_made_under(cache: TaggedCache) -> None:
    tag, value = await cache.read("owner", "g", "page")
    assert value is None
    await cache.store("owner", "page", tag, b"v1")
    assert await cache.read("owner", "g", "page") == (tag, b"v1")


async def test_a_bump_makes_older_values_unreachable(cache: TaggedCache) -> None:
    tag, _ = await cache.read("owner", "g", "page")
    await cache.store("owner", "page", tag, b"old")
    await cache.bump("owner", "g")
    new_tag, value = await cache.read("owner", "g", "page")
    assert new_tag != tag
    assert value is None


async def test_a_value_computed_before_a_write_is_never_served_after_it(
    cache: TaggedCache,
) -> None:
    # A reader takes the tag, a write commits and bumps, then the reader stores what it read.
    tag, _ = await cache.read("owner", "g", "page")
    await cache.bump("owner", "g")
    await cache.store("owner", "page", tag, b"stale")
    assert (await cache.read("owner", "g", "page"))[1] is None


async def test_buckets_and_tag_fields_are_independent(cache: TaggedCache) -> None:
    tag_a, _ = await cache.read("alice", "v:1", "t:1")
    await cache.store("alice", "t:1", tag_a, b"alice's")
    tag_b, _ = await cache.read("alice", "v:2", "t:2")
    await cache.store("alice", "t:2", tag_b, b"other task")
    await cache.bump("alice", "v:2")
    assert (await cache.read("alice", "v:1", "t:1"))[1] == b"alice's"
    assert (await cache.read("alice", "v:2", "t:2"))[1] is None
    assert (await cache.read("bob", "v:1", "t:1"))[1] is None


async def test_concurrent_misses_share_one_load(cache: TaggedCache) -> None:
    reads = CachedReads(cache)
    calls = 0
    release = asyncio.Event()

    async def load() -> bytes:
        nonlocal calls
        calls += 1
        await release.wait()
        return b"page"

    waiting = [asyncio.create_task(reads.get("owner", "g", "page", load)) for _ in range(20)]
    for _ in range(500):  # until all 20 have looked in the cache and missed (bounded)
        if reads.misses == 20:
            break
        await asyncio.sleep(0.01)
    release.set()
    assert await asyncio.gather(*waiting) == [b"page"] * 20
    assert calls == 1
    assert await reads.get("owner", "g", "page", load) == b"page"
    assert calls == 1


async def test_a_failed_load_reaches_every_waiter_and_is_not_cached(cache: TaggedCache) -> None:
    reads = CachedReads(cache)

    async def failing() -> bytes:
        await asyncio.sleep(0.01)
        raise LookupError("gone")

    results = await asyncio.gather(
        *(reads.get("owner", "g", "x", failing) for _ in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, LookupError) for r in results)

    async def working() -> bytes:
        return b"ok"

    assert await reads.get("owner", "g", "x", working) == b"ok"


class BrokenCache:
    """A store that is down: every call fails as a real backend's would."""

    def __init__(self) -> None:
        self.down = True
        self.inner = MemoryTaggedCache(ttl_seconds=60)
        self.bumps: list[tuple[str, ...]] = []

    async def read(self, bucket: str, tag_field: str, slot: str) -> tuple[bytes, bytes | None]:
        if self.down:
            raise StoreUnavailable()
        return await self.inner.read(bucket, tag_field, slot)

    async def store(self, bucket: str, slot: str, tag: bytes, value: bytes) -> None:
        if self.down:
            raise StoreUnavailable()
        await self.inner.store(bucket, slot, tag, value)

    async def bump(self, bucket: str, *tag_fields: str) -> None:
        if self.down:
            raise StoreUnavailable()
        self.bumps.append((bucket, *tag_fields))
        await self.inner.bump(bucket, *tag_fields)


async def test_a_cache_that_is_down_is_a_miss_not_an_error() -> None:
    reads = CachedReads(BrokenCache())

    async def load() -> bytes:
        return b"from the database"

    assert await reads.get("owner", "g", "page", load) == b"from the database"


async def test_an_invalidation_that_failed_is_retried_and_the_bucket_bypassed_meanwhile() -> None:
    broken = BrokenCache()
    reads = CachedReads(broken, retry_seconds=0.01)
    broken.down = False
    tag, _ = await broken.read("owner", "g", "page")
    await broken.store("owner", "page", tag, b"before the write")

    broken.down = True
    await reads.invalidate("owner", "g")  # the write committed; the store missed the bump
    broken.down = False

    async def load() -> bytes:
        return b"after the write"

    # Until the deferred bump lands, this process reads the database, not the old entry.
    assert await reads.get("owner", "g", "page", load) == b"after the write"
    for _ in range(100):
        if broken.bumps:
            break
        await asyncio.sleep(0.01)
    assert broken.bumps == [("owner", "g")]
    assert await reads.get("owner", "g", "page", load) == b"after the write"
    await reads.close()
