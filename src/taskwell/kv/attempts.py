"""Counts of recent failures per key (e.g. failed logins per account), forgotten after a window."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast

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

    async def claim(self, key: str, seen: Failures | None, now: float, window_seconds: int) -> bool:
        """Count one more attempt at `now` if the record is still `seen` (compare and set);
        False when another attempt changed it first. The window restarts at `now`."""
        ...

    async def clear(self, key: str) -> None: ...


class MemoryAttemptLog:
    def __init__(self, max_keys: int = 100_000) -> None:
        self._max = max_keys
        # key -> (count, last failure epoch, monotonic expiry)
        self._entries: OrderedDict[str, tuple[int, float, float]] = OrderedDict()

    def _current(self, key: str) -> Failures | None:
        entry = self._entries.get(key)
        if entry is None or entry[2] <= time.monotonic():
            return None
        return Failures(entry[0], entry[1])

    async def failures(self, key: str) -> Failures | None:
        return self._current(key)

    async def claim(self, key: str, seen: Failures | None, now: float, window_seconds: int) -> bool:
        # No await between the comparison and the write: atomic within the event loop.
        current = self._current(key)
        if current != seen:
            return False
        count = (current.count if current else 0) + 1
        self._entries[key] = (count, now, time.monotonic() + window_seconds)
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)
        return True

    async def clear(self, key: str) -> None:
        self._entries.pop(key, None)


# Compare and set on the whole record: a concurrent claim or clear in between wins.
_CLAIM = """
local current = redis.call('HMGET', KEYS[1], 'n', 't')
if (current[1] or '') ~= ARGV[1] or (current[2] or '') ~= ARGV[2] then return 0 end
redis.call('HSET', KEYS[1], 'n', tostring((tonumber(current[1]) or 0) + 1), 't', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


class RedisAttemptLog:
    """A hash per key {n, t}; each attempt extends the window, so it slides from the last one."""

    def __init__(self, redis: Redis, prefix: str = "tw:fail:") -> None:
        self._redis = redis
        self._prefix = prefix
        self._claim = redis.register_script(_CLAIM)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        from redis.exceptions import RedisError

        try:
            return await operation()
        except (RedisError, OSError) as exc:
            raise StoreUnavailable("Login protection is unavailable; retry shortly.") from exc

    async def failures(self, key: str) -> Failures | None:
        count, last = await self._call(
            lambda: cast(Awaitable[list[Any]], self._redis.hmget(self._prefix + key, ["n", "t"]))
        )
        if count is None or last is None:
            return None
        return Failures(int(count), float(last))

    async def claim(self, key: str, seen: Failures | None, now: float, window_seconds: int) -> bool:
        # Floats are stored as repr(), which reads back to the same float and the same text.
        expected = ("", "") if seen is None else (str(seen.count), repr(seen.last_at))

        async def run() -> Any:
            return await self._claim(
                keys=[self._prefix + key], args=[*expected, repr(now), window_seconds]
            )

        return bool(await self._call(run))

    async def clear(self, key: str) -> None:
        await self._call(lambda: self._redis.delete(self._prefix + key))
