"""A tagged cache: entries are valid only while their bucket's tag is the one they were made under.

One bucket per owner (a Redis hash, or a dict in-process) holds both tags and entries, so a read
is one round trip (HMGET tag, entry) and an invalidation is one round trip (HSET new tags). Tags
are random, never counters, so a bucket that expired and came back can never re-validate an old
entry; reads refresh the bucket's time to live, so it cannot expire under a reader in flight.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from redis.asyncio import Redis

EMPTY_TAG = b"-"


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


class RedisTaggedCache:
    def __init__(self, redis: Redis, ttl_seconds: int, prefix: str = "tw:c:") -> None:
        self._redis = redis
        self._ttl = ttl_seconds
        self._prefix = prefix

    async def read(self, bucket: str, tag_field: str, slot: str) -> tuple[bytes, bytes | None]:
        key = self._prefix + bucket
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hmget(key, [tag_field, slot])
            pipe.expire(key, self._ttl)
            (tag, packed), _ = await pipe.execute()
        tag = tag or EMPTY_TAG
        return tag, _unpack(tag, packed)

    async def store(self, bucket: str, slot: str, tag: bytes, value: bytes) -> None:
        key = self._prefix + bucket
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, slot, _pack(tag, value))
            pipe.expire(key, self._ttl)
            await pipe.execute()

    async def bump(self, bucket: str, *tag_fields: str) -> None:
        key = self._prefix + bucket
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(key, mapping={field: new_tag() for field in tag_fields})
            pipe.expire(key, self._ttl)
            await pipe.execute()
