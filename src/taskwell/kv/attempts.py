"""Counts of recent failures per key (e.g. failed logins per account), forgotten after a window."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, TypeVar

from taskwell.kv.errors import StoreUnavailable

if TYPE_CHECKING:
    from redis.asyncio import Redis

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Failures:
    count: int
    last_at: float  # epoch seconds of the latest failure


class AttemptLog(Protocol):
    async def failures(self, key: str) -> Failures | None: ...

    async def record_failure(self, key: str, now: float, window_seconds: int) -> Failures: ...

    async def clear(self, key: str) -> None: ...


class MemoryAttemptLog:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._max = max_keys
        # key -> (count, last failure epoch, monotonic expiry)
        self._entries: OrderedDict[str, tuple[int, float, float]] = OrderedDict()

    async def failures(self, key: str) -> Failures | None:
        entry = self._entries.get(key)
        if entry is None or entry[2] <= time.monotonic():
            return None
        return Failures(entry[0], entry[1])

    async def record_failure(self, key: str, now: float, window_seconds: int) -> Failures:
        current = await self.failures(key)
        count = (current.count if current else 0) + 1
        self._entries[key] = (count, now, time.monotonic() + window_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return Failures(count, now)

    async def clear(self, key: str) -> None:
        self._entries.pop(key, None)


class RedisAttemptLog:
    """A hash per key {n, t}; each failure extends the window, so it slides from the last one."""

    def __init__(self, redis: Redis, prefix: str = "tw:fail:") -> None:
        self._redis = redis
        self._prefix = prefix

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        try:
            return await operation()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("Login protection is unavailable; retry shortly.") from exc

    async def failures(self, key: str) -> Failures | None:
        count, last = await self._call(lambda: self._redis.hmget(self._prefix + key, ["n", "t"]))
        if count is None or last is None:
            return None
        return Failures(int(count), float(last))

    async def record_failure(self, key: str, now: float, window_seconds: int) -> Failures:
        name = self._prefix + key

        async def write() -> list[object]:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hincrby(name, "n", 1)
                pipe.hset(name, "t", repr(now))
                pipe.expire(name, window_seconds)
                result: list[object] = await pipe.execute()
                return result

        replies = await self._call(write)
        count = replies[0]
        assert isinstance(count, int)
        return Failures(count, now)

    async def clear(self, key: str) -> None:
        await self._call(lambda: self._redis.delete(self._prefix + key))
