"""Rate limits per route group, on the `limits` library (sliding window), in-process or Redis."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from limits import RateLimitItem, parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

from taskwell.errors import DomainError
from taskwell.kv.errors import StoreUnavailable
from taskwell.observability.metrics import RATE_LIMIT_REJECTIONS, RATE_LIMIT_STORE_ERRORS

if TYPE_CHECKING:
    from redis.asyncio import Redis

log = logging.getLogger("taskwell.ratelimit")


@dataclass(frozen=True, slots=True)
class Decision:
    group: str
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimited(DomainError):
    slug, title, status = "rate-limited", "Too many requests", 429

    def __init__(self, decision: Decision) -> None:
        retry = max(1, decision.reset_seconds)
        super().__init__(
            f"Too many requests for {decision.group}; retry in {retry} s.",
            headers={"Retry-After": str(retry), **decision.headers()},
        )


def make_storage(redis: Redis | None) -> Storage:
    if redis is None:
        return MemoryStorage()
    # Share the app's redis-py pool; errors surface so the group's fail mode decides.
    pool: Any = redis.connection_pool  # limits types its options as scalars only
    return RedisStorage(
        "async+redis://", implementation="redispy", connection_pool=pool, key_prefix="tw:rl"
    )


class RateLimiter:
    def __init__(
        self, storage: Storage, rules: Mapping[str, str], fail_closed: frozenset[str]
    ) -> None:
        self._strategy = SlidingWindowCounterRateLimiter(storage)
        self._rules: dict[str, RateLimitItem] = {
            group: parse(rule) for group, rule in rules.items()
        }
        self._fail_closed = fail_closed

    async def check(self, group: str, identity: str) -> Decision:
        """Count one request of identity in group; raise RateLimited when over the limit."""
        item = self._rules[group]
        try:
            allowed = await self._strategy.hit(item, group, identity)
            stats = await self._strategy.get_window_stats(item, group, identity)
        except Exception as exc:  # the storage failed: limits wraps nothing by default
            return self._unavailable(group, item, exc)
        decision = Decision(
            group=group,
            allowed=allowed,
            limit=item.amount,
            remaining=max(0, stats.remaining),
            reset_seconds=max(0, math.ceil(stats.reset_time - time.time())),
        )
        if not allowed:
            RATE_LIMIT_REJECTIONS.labels(group).inc()
            raise RateLimited(decision)
        return decision

    def _unavailable(self, group: str, item: RateLimitItem, exc: Exception) -> Decision:
        closed = group in self._fail_closed
        RATE_LIMIT_STORE_ERRORS.labels(group, "closed" if closed else "open").inc()
        log.warning(
            "rate limit storage unavailable",
            extra={
                "group": group,
                "fail_mode": "closed" if closed else "open",
                "error": type(exc).__name__,
            },
        )
        if closed:
            raise StoreUnavailable(
                "Rate limiting is unavailable for this route; retry shortly."
            ) from exc
        return Decision(group, True, item.amount, item.amount, item.get_expiry())
