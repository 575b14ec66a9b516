"""Rate limits per route group: 429 rate-limited with Retry-After over the limit, RateLimit-*
headers naming the tightest limit on every limited response, buckets per address, account and
user; the client address believed from X-Forwarded-For only through a trusted proxy."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, assert_problem
from tests.support import (
    LOGIN,
    ME,
    REFRESH,
    TASKS,
    bearer,
    forwarded,
    login,
    register,
    serve,
    sign_up,
)

SettingsFactory = Callable[..., Settings]
WRONG = "not the password at all"


def assert_rate_limited(response: httpx.Response, limit: int, window: int = 60) -> None:
    assert_problem(response, 429, "rate-limited")
    # Until there is room: this window's end, plus the time its own count (weighing on into
    # the next window) takes to shrink enough; at most two windows.
    assert 1 <= int(response.headers["retry-after"]) <= 2 * window
    assert response.headers["ratelimit-limit"] == str(limit)
    assert response.headers["ratelimit-remaining"] == "0"
    assert 0 <= int(response.headers["ratelimit-reset"]) <= window


def limit_headers(response: httpx.Response) -> tuple[int, int]:
    reset = int(response.headers["ratelimit-reset"])
    assert 0 <= reset <= 3600
    return int(response.headers["ratelimit-limit"]), int(response.headers["ratelimit-remaining"])


async def test_every_api_request_counts_against_the_default_limit(
    settings_factory: SettingsFactory,
) -> None:
    async with serve(settings_factory(rate_limit_default="3/minute")) as client:
        answered = [
            (await client.get("/api/v1/openapi.json")).status_code,
            (await client.get(TASKS)).status_code,  # unauthenticated: counted all the same
            (await client.post(LOGIN, json={})).status_code,
        ]
        limited = await client.get("/api/v1/openapi.json")
        elsewhere = await client.get(TASKS, headers={"Authorization": "Bearer x"})
        health = await client.get("/healthz")
    assert answered == [200, 401, 422]
    assert_rate_limited(limited, 3)
    assert_rate_limited(elsewhere, 3)
    assert health.status_code == 200  # outside the API: not limited
    assert "ratelimit-limit" not in health.headers


async def test_responses_carry_the_headers_of_the_tightest_limit(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(
        rate_limit_default="50/minute", rate_limit_login="4/minute", rate_limit_user="7/minute"
    )
    async with serve(settings) as client:
        first = await client.get("/api/v1/openapi.json")
        second = await client.get("/api/v1/openapi.json")
        failed_login = await login(client, "nobody@example.com", WRONG)
        tokens = await sign_up(client, "ada@example.com")
        me = await client.get(ME, headers=bearer(tokens))
        missing = await client.get(f"{TASKS}/00000000-0000-0000-0000-000000000000")
    assert limit_headers(first) == (50, 49)
    assert limit_headers(second) == (50, 48)
    assert limit_headers(failed_login) == (4, 3)  # login's 4 is tighter than default's 47
    assert limit_headers(me) == (7, 6)
    assert missing.status_code == 401
    assert limit_headers(missing)[0] == 50


async def test_login_is_limited_per_address(settings_factory: SettingsFactory) -> None:
    async with serve(settings_factory(rate_limit_login="2/minute")) as client:
        await register(client, "ada@example.com")
        attempts = [await login(client, "ada@example.com", WRONG) for _ in range(2)]
        right_password = await login(client, "ada@example.com")
        other_account = await login(client, "bob@example.com")
        other_route = await client.get("/api/v1/openapi.json")
    assert [r.status_code for r in attempts] == [401, 401]
    assert_rate_limited(right_password, 2)
    assert_rate_limited(other_account, 2)
    assert other_route.status_code == 200


async def test_register_is_limited_per_address(settings_factory: SettingsFactory) -> None:
    async with serve(settings_factory(rate_limit_register="2/hour")) as client:
        await register(client, "ada@example.com")
        await register(client, "bob@example.com")
        third = await client.post(
            "/api/v1/auth/register", json={"email": "eve@example.com", "password": STRONG_PASSWORD}
        )
        taken = await login(client, "eve@example.com")
    assert_rate_limited(third, 2, window=3600)
    assert taken.status_code == 401  # the refused registration created nothing


async def test_refresh_is_limited_per_address(settings_factory: SettingsFactory) -> None:
    async with serve(settings_factory(rate_limit_refresh="2/minute")) as client:
        tokens = await sign_up(client, "ada@example.com")
        for _ in range(2):
            response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
            assert response.status_code == 200, response.text
            tokens = response.json()
        limited = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        still_signed_in = await client.get(ME, headers=bearer(tokens))
    assert_rate_limited(limited, 2)
    assert still_signed_in.status_code == 200


async def test_login_account_limit_follows_the_account_across_addresses(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(rate_limit_login_account="3/minute", trusted_proxies="127.0.0.1")
    async with serve(settings) as client:
        await register(client, "ada@example.com")
        await register(client, "bob@example.com")
        statuses = [
            (await login(client, "ada@example.com", WRONG, forwarded(f"203.0.113.{i}"))).status_code
            for i in range(1, 4)
        ]
        owner = await login(client, "ada@example.com", headers=forwarded("198.51.100.1"))
        case_variant = await login(client, "ADA@Example.COM", headers=forwarded("198.51.100.2"))
        other = await login(client, "bob@example.com", headers=forwarded("203.0.113.1"))
    assert statuses == [401, 401, 401]
    assert_rate_limited(owner, 3)
    assert_rate_limited(case_variant, 3)
    assert other.status_code == 200


async def test_unknown_accounts_are_limited_like_known_ones(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(rate_limit_login_account="2/minute", trusted_proxies="127.0.0.1")
    async with serve(settings) as client:
        await register(client, "ada@example.com")
        seen = {}
        for email in ("ada@example.com", "ghost@example.com"):
            responses = [
                await login(client, email, WRONG, forwarded(f"203.0.113.{i}")) for i in range(3)
            ]
            seen[email] = [(r.status_code, r.json()["type"]) for r in responses]
    assert seen["ada@example.com"] == seen["ghost@example.com"]
    assert seen["ghost@example.com"][-1] == (429, "urn:taskwell:problem:rate-limited")


async def test_authenticated_routes_are_limited_per_user(
    settings_factory: SettingsFactory,
) -> None:
    async with serve(settings_factory(rate_limit_user="3/minute")) as client:
        alice = await sign_up(client, "alice@example.com")
        bob = await sign_up(client, "bob@example.com")
        statuses = [(await client.get(TASKS, headers=bearer(alice))).status_code for _ in range(3)]
        limited = await client.post(TASKS, json={"title": "one more"}, headers=bearer(alice))
        other_user = await client.get(TASKS, headers=bearer(bob))
        listed_by_bob = other_user.json()["items"]
    assert statuses == [200, 200, 200]
    assert_rate_limited(limited, 3)
    assert other_user.status_code == 200
    assert listed_by_bob == []


@pytest.mark.parametrize("trusted", ["", "10.0.0.0/8"])
async def test_rotating_forwarded_for_from_an_untrusted_peer_changes_nothing(
    settings_factory: SettingsFactory, trusted: str
) -> None:
    settings = settings_factory(rate_limit_login="2/minute", trusted_proxies=trusted)
    async with serve(settings) as client:
        statuses = [
            (await login(client, "x@example.com", WRONG, forwarded(f"203.0.113.{i}"))).status_code
            for i in range(2)
        ]
        rotated = await login(client, "x@example.com", WRONG, forwarded("198.51.100.77"))
        no_header = await login(client, "x@example.com", WRONG)
    assert statuses == [401, 401]
    assert_rate_limited(rotated, 2)
    assert_rate_limited(no_header, 2)


async def test_forwarded_clients_of_a_trusted_proxy_get_separate_buckets(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(rate_limit_login="2/minute", trusted_proxies="10.0.0.0/8")
    async with serve(settings, peer="10.1.2.3") as client:

        async def attempt(header: str) -> int:
            return (await login(client, "x@example.com", WRONG, forwarded(header))).status_code

        first_client = [await attempt("203.0.113.1") for _ in range(3)]
        second_client = [await attempt("203.0.113.2") for _ in range(3)]
        # What the client writes itself sits left of what the proxy appended: no escape.
        spoofed = await attempt("192.0.2.99, 203.0.113.1")
        through_two_proxies = await attempt("203.0.113.2, 10.9.9.9")
        the_proxy_itself = [
            (await login(client, "x@example.com", WRONG)).status_code for _ in range(3)
        ]
    assert first_client == [401, 401, 429]
    assert second_client == [401, 401, 429]
    assert spoofed == 429
    assert through_two_proxies == 429
    assert the_proxy_itself == [401, 401, 429]


async def test_instances_sharing_redis_share_the_limits(
    settings_factory: SettingsFactory,
) -> None:
    settings = settings_factory(rate_limit_login="2/minute")
    if settings.redis_url is None:
        pytest.skip("in-process limits are per instance; this needs TASKWELL_TEST_REDIS_URL")
    async with serve(settings) as first, serve(settings) as second:
        statuses = [(await login(first, "x@example.com", WRONG)).status_code for _ in range(2)]
        elsewhere = await login(second, "x@example.com", WRONG)
    assert statuses == [401, 401]
    assert_rate_limited(elsewhere, 2)
