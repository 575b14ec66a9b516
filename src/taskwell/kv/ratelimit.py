"""Rate limits per route group: a sliding window counter, in-process or in Redis.

Hand-written rather than on the `limits` library: its sliding window asks the store twice per
check (hit, then window stats), two Redis round trips on every request and ~15 µs in process.
Here one Lua script counts and answers in one round trip, and a dict does the same in process.

The counter is the one `limits` calls a sliding window counter: fixed windows aligned on the
epoch, and the count of the window before weighted by how much of it the sliding window still
covers. Both backends run the same arithmetic on the caller's clock, so they decide alike.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple, Protocol

from taskwell.errors import DomainError
from taskwell.kv.errors import StoreUnavailable
from taskwell.observability.metrics import RATE_LIMIT_REJECTIONS, RATE_LIMIT_STORE_ERRORS

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

log = logging.getLogger("taskwell.ratelimit")

_SECONDS = {"second": 1, "minute": 60, "hour": 3_600, "day": 86_400}
_RULE = re.compile(r"\s*([0-9]+)\s*(?:/|per)\s*(?:([0-9]+)\s*)?(second|minute|hour|day)s?\s*")


@dataclass(frozen=True, slots=True)
class Rule:
    amount: int  # requests allowed per period
    period: int  # seconds


def parse_rule(text: str) -> Rule:
    """Read "600/minute", "10 per hour" or "100/5 minutes"; ValueError says what is wrong."""
    match = _RULE.fullmatch(text.lower())
    if match is None:
        raise ValueError(f"rate limit {text!r} is not 'N/second', 'N/minute', 'N/hour' or 'N/day'")
    amount, multiple, unit = match.groups()
    period = int(multiple or 1) * _SECONDS[unit]
    if int(amount) < 1 or period < 1:
        raise ValueError(f"rate limit {text!r} must allow at least one request per period")
    return Rule(int(amount), period)


class Counts(NamedTuple):  # a tuple: built on every check, and cheaper than a dataclass
    """One identity's counter after a hit: the window it was counted in and the one before."""

    allowed: bool
    window: int  # index of the current window: floor(now / period)
    current: int
    previous: int


class RateLimitStore(Protocol):
    # What the store raises when it cannot answer: the group's fail mode decides then.
    errors: tuple[type[Exception], ...]

    async def hit(self, group: str, identity: str, rule: Rule, now: float) -> Counts:
        """Count one request at `now` if the rule allows it; the counts either way."""
        ...


def _weighted(previous: int, current: int, elapsed: float, period: int) -> int:
    # The same expression, in the same order, as the Lua script: equal floats, equal decisions.
    # Rounded up: just after a window ends, the one before still weighs (almost) all it held;
    # rounded down, a client that used up the limit got one more request at each boundary.
    return math.ceil(previous * (period - elapsed) / period) + current


class MemoryRateLimitStore:
    """Counters in this process, per group oldest write first, so expired ones leave first."""

    errors: tuple[type[Exception], ...] = ()

    def __init__(self, max_keys_per_group: int = 100_000) -> None:
        self._max = max_keys_per_group
        # (group, period) -> identity -> (window, current count, previous count)
        self._groups: dict[tuple[str, int], OrderedDict[str, tuple[int, int, int]]] = {}

    async def hit(self, group: str, identity: str, rule: Rule, now: float) -> Counts:
        # No await from read to write: atomic within the event loop.
        period = rule.period
        counters = self._groups.get((group, period))
        if counters is None:
            counters = self._groups[group, period] = OrderedDict()
        window = math.floor(now / period)
        # Every counter written in a window before the last one is spent.
        while counters:
            oldest = next(iter(counters))
            if counters[oldest][0] >= window - 1:
                break
            del counters[oldest]
        stored = counters.get(identity)
        current = previous = 0
        if stored is not None:
            if stored[0] == window - 1:  # the window before: its count is now the previous
                previous = stored[1]
            elif window <= stored[0] <= window + 1:
                # This window, or the next one if the clock stepped back: count in it.
                window, current, previous = stored
        elapsed = max(0.0, now - window * period)
        if _weighted(previous, current, elapsed, period) + 1 > rule.amount:
            return Counts(False, window, current, previous)
        counters[identity] = (window, current + 1, previous)
        counters.move_to_end(identity)
        if len(counters) > self._max:
            counters.popitem(last=False)
        return Counts(True, window, current + 1, previous)

    def __len__(self) -> int:
        return sum(len(counters) for counters in self._groups.values())


# KEYS[1]: a hash {w: window index, c: its count, p: the count of the window before}.
# ARGV: now (epoch seconds), period (seconds), limit. Returns {allowed, window, current, previous}.
# Mirrors MemoryRateLimitStore.hit; a key lives until its window and the next one are over.
_SLIDING_WINDOW = """
local now, period, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local window = math.floor(now / period)
local stored = redis.call('HMGET', KEYS[1], 'w', 'c', 'p')
local at = tonumber(stored[1])
local current, previous = 0, 0
if at == window - 1 then
  previous = tonumber(stored[2]) or 0
elseif at ~= nil and at >= window and at <= window + 1 then
  -- this window, or the next one if another instance's clock runs ahead: count in it
  window, current, previous = at, tonumber(stored[2]) or 0, tonumber(stored[3]) or 0
end
local elapsed = now - window * period
if elapsed < 0 then elapsed = 0 end
if math.ceil(previous * (period - elapsed) / period) + current + 1 > limit then
  return {0, window, current, previous}
end
current = current + 1
redis.call('HSET', KEYS[1], 'w', window, 'c', current, 'p', previous)
redis.call('PEXPIRE', KEYS[1], math.ceil(((window + 2) * period - now) * 1000))
return {1, window, current, previous}
"""


class RedisRateLimitStore:
    """Counters shared by every instance: one EVALSHA per hit (redis-py loads the script again
    by itself when Redis answers NOSCRIPT, after a restart or SCRIPT FLUSH)."""

    def __init__(self, redis: Redis, prefix: str = "tw:rl:") -> None:
        from redis.exceptions import RedisError

        self.errors: tuple[type[Exception], ...] = (RedisError, OSError)
        self._prefix = prefix
        self._script: AsyncScript = redis.register_script(_SLIDING_WINDOW)

    async def hit(self, group: str, identity: str, rule: Rule, now: float) -> Counts:
        # The period is in the key: a rule changed to another period starts afresh.
        key = f"{self._prefix}{group}:{rule.period}:{identity}"
        allowed, window, current, previous = await self._script(
            keys=[key], args=[repr(now), rule.period, rule.amount]
        )
        return Counts(allowed == 1, int(window), int(current), int(previous))


def make_storage(redis: Redis | None) -> RateLimitStore:
    # Redis shares the app's redis-py pool; its errors surface so the group's fail mode decides.
    return MemoryRateLimitStore() if redis is None else RedisRateLimitStore(redis)


@dataclass(frozen=True, slots=True)
class Decision:
    group: str
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int
    retry_seconds: int = 0  # refused: how long until a request would be allowed

    def headers(self) -> dict[str, str]:
        return {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }


class RateLimited(DomainError):
    slug, title, status = "rate-limited", "Too many requests", 429

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        retry = max(1, decision.retry_seconds)
        super().__init__(
            f"Too many requests for {decision.group}; retry in {retry} s.",
            headers={"Retry-After": str(retry), **decision.headers()},
        )


def decide(group: str, rule: Rule, counts: Counts, now: float) -> Decision:
    """Remaining requests, and seconds until the weighted count next drops by one (as
    `limits` reports them): the sooner of the previous window's share shrinking by one
    request and the current window ending."""
    period = rule.period
    elapsed = min(float(period), max(0.0, now - counts.window * period))
    previous, current = counts.previous, counts.current
    reset = 0.0
    if previous or current:
        left = period - elapsed
        reset = min(
            left % (period / previous) if previous else math.inf,
            left if current else math.inf,
        )
    remaining = max(0, rule.amount - _weighted(previous, current, elapsed, period))
    retry = 0 if counts.allowed else math.ceil(_until_allowed(rule, counts, elapsed) + 0.001)
    return Decision(group, counts.allowed, rule.amount, remaining, math.ceil(reset), retry)


def _until_allowed(rule: Rule, counts: Counts, elapsed: float) -> float:
    """Seconds from now until one more request fits: when ceil(previous * (P - e) / P) +
    current + 1 <= limit first holds, in this window or, failing that, in the next one (where
    this window's count becomes the previous). The reset above can be sooner than that: the
    weighted count dropping by one does not always make room."""
    period, limit = rule.period, rule.amount
    previous, current = counts.previous, counts.current
    if current < limit:
        # Room once the previous window's share is at most limit - current - 1.
        need = period - (limit - current - 1) * period / previous if previous else 0.0
        if need < period:
            return max(0.0, need - elapsed)
    # In the next window only this window's count weighs, and it shrinks from the start.
    next_need = max(0.0, period - (limit - 1) * period / current) if current else 0.0
    return period - elapsed + next_need


class RateLimiter:
    def __init__(
        self,
        storage: RateLimitStore,
        rules: Mapping[str, str],
        fail_closed: frozenset[str],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._store = storage
        self._errors = storage.errors
        self._rules = {group: parse_rule(rule) for group, rule in rules.items()}
        self._fail_closed = fail_closed
        self._clock = clock

    async def check(self, group: str, identity: str) -> Decision:
        """Count one request of identity in group; raise RateLimited when over the limit."""
        rule = self._rules[group]
        now = self._clock()
        try:
            counts = await self._store.hit(group, identity, rule, now)
        except self._errors as exc:
            return self._unavailable(group, rule, exc)
        decision = decide(group, rule, counts, now)
        if not decision.allowed:
            RATE_LIMIT_REJECTIONS.labels(group).inc()
            raise RateLimited(decision)
        return decision

    def _unavailable(self, group: str, rule: Rule, exc: Exception) -> Decision:
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
        return Decision(group, True, rule.amount, rule.amount, rule.period)
