"""The rate limiter itself: a sliding window counter that weighs the window before by the share
the sliding window still covers, decides alike in process and in Redis, asks Redis once per
check, survives a flushed script cache, fails open or closed as configured, and keeps memory
bounded. Time is a hand-moved clock; Redis is a throw-away server of the test's own."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from prometheus_client import REGISTRY
from pydantic import ValidationError
from redis.asyncio import Redis
from redis.asyncio.connection import AbstractConnection
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from taskwell.kv.errors import StoreUnavailable
from taskwell.kv.ratelimit import (
    Decision,
    MemoryRateLimitStore,
    RateLimited,
    RateLimiter,
    RateLimitStore,
    Rule,
    make_storage,
    parse_rule,
)
from taskwell.settings import Settings
from tests.support.processes import free_port

T0 = 1_699_999_200.0  # the start of an hour (so of a minute and a second too)
RULES = {"default": "10/minute", "burst": "5/second", "login": "3/hour"}


class Clock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def at(self, seconds: float) -> Clock:
        self.now = T0 + seconds
        return self


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> RateLimitStore:
    if request.param == "memory":
        return make_storage(None)
    return make_storage(request.getfixturevalue("redis"))


@pytest.fixture
def clock() -> Clock:
    return Clock()


def limiter_on(
    store: RateLimitStore, clock: Clock, closed: frozenset[str] = frozenset()
) -> RateLimiter:
    return RateLimiter(store, RULES, closed, clock=clock)


async def outcome(limiter: RateLimiter, group: str, identity: str = "203.0.113.1") -> Decision:
    """The decision, allowed or not."""
    try:
        return await limiter.check(group, identity)
    except RateLimited as exc:
        return exc.decision


def counted(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# Rules


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("600/minute", Rule(600, 60)),
        ("10/hour", Rule(10, 3_600)),
        ("5/second", Rule(5, 1)),
        ("2/day", Rule(2, 86_400)),
        ("10 per minute", Rule(10, 60)),
        ("100/5 minutes", Rule(100, 300)),
        (" 7/Hours ", Rule(7, 3_600)),
    ],
)
def test_rules_read_as_requests_per_period(text: str, rule: Rule) -> None:
    assert parse_rule(text) == rule


@pytest.mark.parametrize(
    "text", ["ten/minute", "10/fortnight", "0/minute", "10", "", "10/0 minutes", "-1/minute"]
)
def test_malformed_rules_are_refused_with_the_reason(text: str) -> None:
    with pytest.raises(ValueError, match="rate limit"):
        parse_rule(text)


def test_settings_refuse_a_malformed_rule() -> None:
    with pytest.raises(ValidationError, match="rate_limit_login"):
        Settings(env="test", rate_limit_login="10/fortnight")


# The sliding window


async def test_the_previous_window_weighs_by_the_share_still_covered(
    store: RateLimitStore, clock: Clock
) -> None:
    limiter = limiter_on(store, clock)
    first = [await outcome(limiter, "default") for _ in range(11)]
    clock.at(30)  # still the first minute: its ten are all there
    still_full = await outcome(limiter, "default")
    clock.at(75)  # a quarter into the next minute: 10 * 0.75 = 7.5 -> 8 still count
    quarter = [await outcome(limiter, "default") for _ in range(4)]
    clock.at(90)  # half way: 10 * 0.5 = 5, plus the 2 taken
    half = [await outcome(limiter, "default") for _ in range(3)]
    clock.at(181)  # two windows on: the first minute no longer counts at all
    later = await outcome(limiter, "default")

    assert [d.allowed for d in first] == [True] * 10 + [False]
    assert [d.remaining for d in first] == [9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 0]
    assert not still_full.allowed
    assert [(d.allowed, d.remaining) for d in quarter] == [
        (True, 1),
        (True, 0),
        (False, 0),
        (False, 0),
    ]
    assert [(d.allowed, d.remaining) for d in half] == [(True, 2), (True, 1), (True, 0)]
    assert (later.allowed, later.remaining) == (True, 9)


async def test_reset_is_when_the_weighted_count_next_drops(
    store: RateLimitStore, clock: Clock
) -> None:
    limiter = limiter_on(store, clock)
    clock.at(20)
    fresh = await limiter.check("default", "a")
    for _ in range(9):
        await limiter.check("default", "a")
    with pytest.raises(RateLimited) as refused:
        await limiter.check("default", "a")
    clock.at(75)  # 45 s of the last window left; each of its 10 requests weighs 6 s
    next_window = await limiter.check("default", "a")

    # Only this window counts: the count drops when it ends, 40 s on.
    assert fresh == Decision("default", True, 10, 9, 40)
    # Room again once this window's 10, weighing on into the next, count 9: 6 s into it.
    assert refused.value.decision == Decision("default", False, 10, 0, 40, 47)
    assert refused.value.headers["Retry-After"] == "47"
    assert refused.value.headers["RateLimit-Remaining"] == "0"
    assert next_window == Decision("default", True, 10, 1, 3)  # 7.5 -> 8 (+1); 45 % 6 = 3


async def test_retry_after_is_when_a_request_would_be_allowed(
    store: RateLimitStore, clock: Clock
) -> None:
    limiter = limiter_on(store, clock)
    clock.at(0)
    for _ in range(4):  # the window before: 4 of 10
        await limiter.check("default", "a")
    clock.at(61)  # its 4 weigh 4 * 59/60 -> 4 (rounded up); room for 6 more in this window
    for _ in range(6):
        await limiter.check("default", "a")
    with pytest.raises(RateLimited) as full:
        await limiter.check("default", "a")
    # There is room once the old window's share is down to 3, at e = 15 s: 14 s from now.
    assert full.value.headers["Retry-After"] == "15"
    clock.at(61 + 15)
    assert (await limiter.check("default", "a")).allowed

    clock.at(130)  # the previous window now holds 7; this one starts empty
    for _ in range(2):
        await limiter.check("default", "a")  # 7 * 50/60 -> 6, + 1, then + 2
    await limiter.check("default", "a")
    await outcome(limiter, "default", "a")  # 6 + 3 + 1 = 10: fits
    with pytest.raises(RateLimited) as refused:
        await limiter.check("default", "a")
    retry = int(refused.value.headers["Retry-After"])
    clock.at(130 + retry - 1)
    assert not (await outcome(limiter, "default", "a")).allowed
    clock.at(130 + retry)
    assert (await outcome(limiter, "default", "a")).allowed


async def test_a_used_up_limit_gives_nothing_more_just_after_the_window_ends(
    store: RateLimitStore, clock: Clock
) -> None:
    """Rounded down, the previous window's 3 would weigh 2 a moment after the boundary, and a
    client that used up "3/hour" would get a fourth request at every window boundary."""
    limiter = limiter_on(store, clock)
    clock.at(3_599)
    for _ in range(3):
        await limiter.check("login", "a")
    clock.at(3_601)
    assert not (await outcome(limiter, "login", "a")).allowed


async def test_groups_and_identities_count_apart(store: RateLimitStore, clock: Clock) -> None:
    limiter = limiter_on(store, clock)
    for _ in range(3):
        await limiter.check("login", "a")
    other_identity = await outcome(limiter, "login", "b")
    other_group = await outcome(limiter, "default", "a")
    same = await outcome(limiter, "login", "a")
    assert (other_identity.allowed, other_identity.remaining) == (True, 2)
    assert (other_group.allowed, other_group.remaining) == (True, 9)
    assert (same.allowed, same.limit, same.reset_seconds) == (False, 3, 3_600)


async def test_concurrent_checks_never_overshoot_the_limit(
    store: RateLimitStore, clock: Clock
) -> None:
    limiter = limiter_on(store, clock)
    decisions = await asyncio.gather(*(outcome(limiter, "default") for _ in range(40)))
    assert sum(d.allowed for d in decisions) == 10
    assert sorted(d.remaining for d in decisions if d.allowed) == list(range(10))


async def test_memory_and_redis_decide_alike(redis: Redis) -> None:
    steps = random.Random(20_240_601)
    plan = [
        (steps.choice(["default", "burst", "login"]), steps.choice("abc"), steps.random() * 0.9)
        for _ in range(600)
    ]

    async def run(store: RateLimitStore) -> list[Decision]:
        clock = Clock(T0 + 0.123)
        limiter = limiter_on(store, clock)
        seen = []
        for group, identity, wait in plan:
            clock.now += wait
            seen.append(await outcome(limiter, group, identity))
        return seen

    in_memory = await run(make_storage(None))
    in_redis = await run(make_storage(redis))
    assert in_memory == in_redis
    assert {d.allowed for d in in_memory} == {True, False}  # the plan crossed the limits


# Redis


async def test_a_check_is_one_round_trip_to_redis(
    redis: Redis, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    limiter = limiter_on(make_storage(redis), clock)
    await limiter.check("default", "warm-up")  # connects, and loads the script once
    sent = 0
    send = AbstractConnection.send_packed_command

    async def counting(self: AbstractConnection, *args: Any, **kwargs: Any) -> None:
        nonlocal sent
        sent += 1
        await send(self, *args, **kwargs)

    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    for _ in range(5):
        await limiter.check("default", "a")
    await outcome(limiter, "login", "b")
    for _ in range(5):
        await outcome(limiter, "login", "b")  # refusals too
    assert sent == 11


async def test_counters_live_under_the_prefix_and_expire(redis: Redis, clock: Clock) -> None:
    limiter = limiter_on(make_storage(redis), clock.at(15))
    await limiter.check("default", "203.0.113.9")
    keys = await redis.keys("*")
    assert keys == [b"tw:rl:default:60:203.0.113.9"]
    # Kept until the next window ends, when this one stops weighing: 105 s from now.
    assert 0 < await redis.pttl(keys[0]) <= 105_000


async def test_checks_recover_after_the_script_cache_is_flushed(redis: Redis, clock: Clock) -> None:
    errors_before = counted("taskwell_rate_limit_store_errors_total", group="login", mode="closed")
    limiter = limiter_on(make_storage(redis), clock, closed=frozenset({"login"}))
    before = await limiter.check("login", "a")
    await redis.script_flush()  # what a Redis restart does to the script cache
    after = await limiter.check("login", "a")
    assert (before.remaining, after.remaining) == (2, 1)
    assert (
        counted("taskwell_rate_limit_store_errors_total", group="login", mode="closed")
        == errors_before
    )


@pytest.fixture
async def unreachable() -> AsyncIterator[Redis]:
    client = Redis(
        host="127.0.0.1",
        port=free_port(),  # nothing listens there
        socket_connect_timeout=1,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        yield client
    finally:
        await client.aclose()


async def test_an_unreachable_redis_fails_open_unless_the_group_fails_closed(
    unreachable: Redis, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = limiter_on(make_storage(unreachable), clock, closed=frozenset({"login"}))
    opened = counted("taskwell_rate_limit_store_errors_total", group="default", mode="open")
    closed = counted("taskwell_rate_limit_store_errors_total", group="login", mode="closed")

    with caplog.at_level(logging.WARNING, logger="taskwell.ratelimit"):
        let_through = await limiter.check("default", "a")
        with pytest.raises(StoreUnavailable) as refused:
            await limiter.check("login", "a")

    assert let_through == Decision("default", True, 10, 10, 60)
    assert refused.value.status == 503
    assert counted("taskwell_rate_limit_store_errors_total", group="default", mode="open") == (
        opened + 1
    )
    assert counted("taskwell_rate_limit_store_errors_total", group="login", mode="closed") == (
        closed + 1
    )
    assert [r.getMessage() for r in caplog.records] == ["rate limit storage unavailable"] * 2
    assert [r.__dict__["fail_mode"] for r in caplog.records] == ["open", "closed"]


# Memory


async def test_memory_forgets_counters_whose_windows_are_over(clock: Clock) -> None:
    store = MemoryRateLimitStore()
    limiter = limiter_on(store, clock)
    for identity in range(50):
        await limiter.check("default", str(identity))
    clock.at(90)  # the first minute still weighs
    await limiter.check("default", "late")
    kept = len(store)
    clock.at(150)  # it no longer does
    await limiter.check("default", "later")
    assert (kept, len(store)) == (51, 2)


async def test_memory_keeps_at_most_its_cap_dropping_the_stalest(clock: Clock) -> None:
    store = MemoryRateLimitStore(max_keys_per_group=100)
    limiter = limiter_on(store, clock)
    for identity in range(1_000):
        await limiter.check("login", str(identity))
    for _ in range(2):
        await limiter.check("login", "999")
    assert len(store) == 100
    assert (await limiter.check("login", "0")).remaining == 2  # forgotten: starts afresh
    assert (await outcome(limiter, "login", "999")).allowed is False
