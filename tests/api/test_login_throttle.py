"""Account protection: failed logins for one account slow further attempts exponentially,
whatever the source address; the owner always gets back in after the wait; unknown emails are
treated the same. The throttle's clock is frozen and moved by hand, never slept on."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskwell.auth import login_throttle
from taskwell.kv.attempts import MemoryAttemptLog
from taskwell.kv.ratelimit import RateLimiter, make_storage
from taskwell.settings import Settings
from tests.conftest import assert_problem
from tests.support import ME, bearer, forwarded, login, register, serve

SettingsFactory = Callable[..., Settings]
WRONG = "not the password at all"
ADA = "ada@example.com"


class Clock:
    """Stands in for the `time` module inside login_throttle."""

    def __init__(self) -> None:
        self.now = time.time()

    def time(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr(login_throttle, "time", frozen)
    return frozen


@pytest.fixture
def throttled_settings(settings_factory: SettingsFactory) -> Settings:
    # Every attempt may come from another address: the throttle must not care.
    return settings_factory(
        login_failure_threshold=3,
        login_backoff_base_seconds=1.0,
        login_backoff_max_seconds=5.0,
        trusted_proxies="127.0.0.1",
    )


class Attacker:
    """Logs in from a new address every time."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.sent = 0

    async def login(self, email: str, password: str = WRONG) -> httpx.Response:
        self.sent += 1
        address = f"203.0.{self.sent // 250}.{self.sent % 250 + 1}"
        return await login(self.client, email, password, forwarded(address))

    async def fail(self, email: str, times: int) -> None:
        for _ in range(times):
            response = await self.login(email)
            assert_problem(response, 401, "invalid-credentials")


def assert_throttled(response: httpx.Response, retry_after: int) -> dict[str, Any]:
    body = assert_problem(response, 429, "login-throttled")
    assert response.headers["retry-after"] == str(retry_after), body
    return body


async def test_ten_failures_throttle_the_account_by_default(
    settings_factory: SettingsFactory, clock: Clock
) -> None:
    async with serve(settings_factory(trusted_proxies="127.0.0.1")) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        await attacker.fail(ADA, 10)
        throttled = await attacker.login(ADA)
        owner_too = await login(client, ADA, headers=forwarded("198.51.100.1"))
    assert_throttled(throttled, 1)
    assert_throttled(owner_too, 1)


async def test_backoff_doubles_with_each_further_failure_up_to_the_cap(
    throttled_settings: Settings, clock: Clock
) -> None:
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        await attacker.fail(ADA, 3)
        waits = []
        for _ in range(6):
            first = await attacker.login(ADA)
            wait = int(first.headers["retry-after"])
            clock.advance(wait - 0.5)
            assert_throttled(await attacker.login(ADA), 1)  # half a second left: still 1 s
            clock.advance(0.5)
            await attacker.fail(ADA, 1)  # the wait is over: the password is checked again
            waits.append(wait)
    assert waits == [1, 2, 4, 5, 5, 5]


async def test_throttled_attempts_do_not_check_the_password_nor_extend_the_wait(
    throttled_settings: Settings, clock: Clock
) -> None:
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        await attacker.fail(ADA, 3)
        clock.advance(1)
        await attacker.fail(ADA, 1)  # one past the threshold: 2 s
        for password in (WRONG, "violet tractor sings under 42 lanterns", WRONG, WRONG):
            assert_throttled(await attacker.login(ADA, password), 2)
        clock.advance(1.2)
        assert_throttled(await attacker.login(ADA), 1)
        clock.advance(0.8)
        await attacker.fail(ADA, 1)
        after = await attacker.login(ADA)
    assert_throttled(after, 4)  # five failures, not nine


async def test_after_the_wait_the_owner_gets_in_and_the_count_starts_over(
    throttled_settings: Settings, clock: Clock
) -> None:
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        await attacker.fail(ADA, 3)
        for _ in range(10):  # a persistent attacker: every wait is used for one more guess
            clock.advance(int((await attacker.login(ADA)).headers["retry-after"]))
            await attacker.fail(ADA, 1)
        capped = await login(client, ADA, headers=forwarded("198.51.100.1"))
        clock.advance(5)  # never more than the cap
        owner = await login(client, ADA, headers=forwarded("198.51.100.1"))
        me = await client.get(ME, headers=bearer(owner.json()))
        await attacker.fail(ADA, 2)  # cleared: below the threshold again
        owner_again = await login(client, ADA, headers=forwarded("198.51.100.1"))
    assert_throttled(capped, 5)
    assert owner.status_code == 200, owner.text
    assert me.status_code == 200
    assert owner_again.status_code == 200


async def test_unknown_emails_are_throttled_exactly_like_accounts(
    throttled_settings: Settings, clock: Clock
) -> None:
    async def story(client: httpx.AsyncClient, email: str) -> list[tuple[object, ...]]:
        attacker = Attacker(client)
        seen: list[tuple[object, ...]] = []
        for step in range(7):
            response = await attacker.login(email)
            body = response.json()
            seen.append(
                (
                    response.status_code,
                    response.headers.get("retry-after"),
                    body["type"],
                    body["title"],
                    body["detail"],
                )
            )
            if step == 4:
                clock.advance(1)
        return seen

    async with serve(throttled_settings) as client:
        await register(client, ADA)
        known = await story(client, ADA)
        unknown = await story(client, "ghost@example.com")
    assert known == unknown
    assert [entry[0] for entry in known] == [401, 401, 401, 429, 429, 401, 429]


async def test_accounts_are_throttled_separately(
    throttled_settings: Settings, clock: Clock
) -> None:
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        await register(client, "bob@example.com")
        attacker = Attacker(client)
        await attacker.fail(ADA, 3)
        bob = await attacker.login("bob@example.com", "violet tractor sings under 42 lanterns")
        ada = await attacker.login(ADA)
    assert bob.status_code == 200
    assert_throttled(ada, 1)


async def test_spellings_of_one_email_are_one_account(
    throttled_settings: Settings, clock: Clock
) -> None:
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        for spelling in ("ADA@example.com", " ada@EXAMPLE.com", "Ada@Example.Com"):
            await attacker.fail(spelling, 1)
        throttled = await attacker.login(ADA)
    assert_throttled(throttled, 1)


async def test_concurrent_guesses_cannot_slip_past_the_threshold(
    throttled_settings: Settings, clock: Clock
) -> None:
    """Attempts are counted as they start, atomically: a burst sent at once gets no more
    password checks than the same attempts sent one after another."""
    async with serve(throttled_settings) as client:
        await register(client, ADA)
        attacker = Attacker(client)
        burst = await asyncio.gather(*(attacker.login(ADA) for _ in range(10)))
        clock.advance(1)
        after_the_wait = await asyncio.gather(*(attacker.login(ADA) for _ in range(10)))
        clock.advance(2)
        owner = await login(client, ADA, headers=forwarded("198.51.100.1"))
    assert sorted(r.status_code for r in burst) == [401] * 3 + [429] * 7
    assert sorted(r.status_code for r in after_the_wait) == [401] + [429] * 9
    assert owner.status_code == 200


@pytest.mark.parametrize(
    ("failures", "delay"),
    [(0, 0.0), (2, 0.0), (3, 1.0), (4, 2.0), (5, 4.0), (6, 5.0), (1_030, 5.0), (10**6, 5.0)],
)
def test_the_wait_grows_exponentially_and_stays_capped_for_any_count(
    throttled_settings: Settings, failures: int, delay: float
) -> None:
    """A long campaign against one account (a wide window, a small cap) must not overflow."""
    limiter = RateLimiter(make_storage(None), throttled_settings.rate_limit_rules, frozenset())
    throttle = login_throttle.LoginThrottle(throttled_settings, MemoryAttemptLog(), limiter)
    assert throttle.delay_after(failures) == delay
