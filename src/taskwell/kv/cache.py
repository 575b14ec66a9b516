"""A tagged cache: entries are valid only while their bucket's tag is the one they were made under.

One bucket per owner (a Redis hash, or a dict in-process) holds both tags and entries, so a read
is one round trip (HMGET tag, entry) and an invalidation is one round trip (HSET new tags). Tags
are random, never counters, so a bucket that expired and came back can never re-validate an old
entry; reads refresh the bucket's time to live, so it cannot expire under a reader in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from taskwell.kv.errors import StoreUnavailable
from taskwell.observability.metrics import CACHE_REQUESTS

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")
log = logging.getLogger("taskwell.cache")

EMPTY_TAG = b"-"
_HITS = CACHE_REQUESTS.labels("hit")
_MISSES = CACHE_REQUESTS.labels("miss")


def new_tag() -> bytes:
    return secrets.token_hex(8).encode()


def _pack(tag: bytes, value: bytes) -> bytes:
    return tag + b":" + value


def _unpack(tag: bytes, packed: bytes | None) -> bytes | None:
    if packed is None:
        return None
    entry_tag, _, value = packed.partition(b":")
    return value if entry_tag == tag else None


class TaggedCache(Protocol):
    async def read(self, bucket: str, tag_field: str, slot: str) -> tuple[bytes, bytes | None]:
        """The bucket's current tag for tag_field, and the slot's value if made under it."""

    async def store(self, bucket: str, slot: str, tag: bytes, value: bytes) -> None:
        """Keep value in slot, made under tag (as returned by read before computing it)."""

    async def bump(self, bucket: str, *tag_fields: str) -> None:
        """Give each tag field a new tag: every entry made under the old ones is now invalid."""


class MemoryTaggedCache:
    """In-process backend: a bounded LRU of buckets, each expiring after ttl_seconds unused."""

    def __init__(self, ttl_seconds: float, max_buckets: int = 10_000) -> None:
        self._ttl = ttl_seconds
        self._max = max_buckets
        self._buckets: OrderedDict[str, tuple[float, dict[str, bytes]]] = OrderedDict()

    def _bucket(self, name: str) -> dict[str, bytes]:
        now = time.monotonic()
        found = self._buckets.get(name)
        fields = found[1] if found is not None and found[0] > now else {}
        self._buckets[name] = (now + self._ttl, fields)
        self._buckets.move_to_end(name)
        while len(self._buckets) > self._max:
            self._buckets.popitem(last=False)
        return fields

    async def read(self, bucket: str, tag_field: str, slot: str) -> tuple[bytes, bytes | None]:
        fields = self._bucket(bucket)
        tag = fields.get(tag_field, EMPTY_TAG)
        return tag, _unpack(tag, fields.get(slot))

    async def store(self, bucket: str, slot: str, tag: bytes, value: bytes) -> None:
        self._bucket(bucket)[slot] = _pack(tag, value)

    async def bump(self, bucket: str, *tag_fields: str) -> None:
        fields = self._bucket(bucket)
        for field in tag_fields:
            fields[field] = new_tag()


# KEYS[1]: the bucket; ARGV: tag field, slot, time to live. One command, not a pipeline of
# HMGET + EXPIRE: about 30 us less redis-py CPU on every cached read.
_READ = """
local found = redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return found
"""


class RedisTaggedCache:
    def __init__(self, redis: Redis, ttl_seconds: int, prefix: str = "tw:c:") -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix
        self._read = redis.register_script(_READ)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        try:
            return await operation()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("The cache is unavailable.") from exc

    async def read(self, bucket: str, tag_field: str, slot: str) -> tuple[bytes, bytes | None]:
        key = self._prefix + bucket

        async def run() -> tuple[bytes | None, bytes | None]:
            found_tag, found_value = await self._read(keys=[key], args=[tag_field, slot, self._ttl])
            return found_tag, found_value

        raw_tag, packed = await self._call(run)
        tag = raw_tag or EMPTY_TAG
        return tag, _unpack(tag, packed)

    async def store(self, bucket: str, slot: str, tag: bytes, value: bytes) -> None:
        key = self._prefix + bucket

        async def run() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping={slot: _pack(tag, value)})
                pipe.expire(key, self._ttl)
                await pipe.execute()

        await self._call(run)

    async def bump(self, bucket: str, *tag_fields: str) -> None:
        key = self._prefix + bucket

        async def run() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hset(key, mapping={field: new_tag() for field in tag_fields})
                pipe.expire(key, self._ttl)
                await pipe.execute()

        await self._call(run)


class CachedReads:
    """Read-through caching over a TaggedCache, with the guarantees the app relies on.

    - One computation per cold key in this process: concurrent misses share one load
      (stampede protection); other processes each compute at most once too.
    - The tag is read before the load and the value stored under it, so a write that lands
      meanwhile (and bumps the tag) leaves the stored value unreachable, never stale.
    - The cache being down is a miss, never an error. An invalidation that could not reach
      the store is retried in the background, and until it lands this process does not read
      that bucket from the cache.
    """

    def __init__(self, cache: TaggedCache, retry_seconds: float = 0.5) -> None:
        self._cache = cache
        self._retry = retry_seconds
        self._inflight: dict[tuple[str, str, bytes], asyncio.Future[bytes]] = {}
        self._pending: dict[str, set[str]] = {}
        self._retrier: asyncio.Task[None] | None = None
        self.hits = 0
        self.misses = 0

    async def get(
        self, bucket: str, tag_field: str, slot: str, load: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        if bucket in self._pending:
            return await load()
        try:
            tag, value = await self._cache.read(bucket, tag_field, slot)
        except StoreUnavailable:
            return await load()
        if value is not None:
            self.hits += 1
            _HITS.inc()
            return value
        self.misses += 1
        _MISSES.inc()
        key = (bucket, slot, tag)
        running = self._inflight.get(key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await load()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here, so an unshared failure is not reported twice
            raise
        finally:
            del self._inflight[key]
        future.set_result(value)
        with contextlib.suppress(StoreUnavailable):  # not cached this time; still correct
            await self._cache.store(bucket, slot, tag, value)
        return value

    async def invalidate(self, bucket: str, *tag_fields: str) -> None:
        """Call after the write has committed."""
        try:
            await self._cache.bump(bucket, *tag_fields)
        except StoreUnavailable:
            log.warning("cache invalidation deferred", extra={"bucket": bucket})
            self._pending.setdefault(bucket, set()).update(tag_fields)
            if self._retrier is None or self._retrier.done():
                self._retrier = asyncio.create_task(self._retry_pending())

    async def _retry_pending(self) -> None:
        while self._pending:
            await asyncio.sleep(self._retry)
            for bucket in list(self._pending):
                fields = set(self._pending[bucket])
                try:
                    await self._cache.bump(bucket, *fields)
                except StoreUnavailable:
                    break
                # Fields deferred while this bump was in flight stay pending.
                remaining = self._pending[bucket] - fields
                if remaining:
                    self._pending[bucket] = remaining
                else:
                    del self._pending[bucket]

    async def close(self) -> None:
        if self._retrier is not None:
            self._retrier.cancel()
