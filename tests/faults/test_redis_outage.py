"""Redis goes away under a running app (a real redis-server process, stopped mid-test) and
comes back on the same port: valid access tokens ride out the outage for the grace period,
auth routes answer 503 with Retry-After, other limits fail open, nothing answers 500, and the
app recovers by itself. The session guard's clock is moved by hand, never slept on."""

from __future__ import annotations

import signal
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskwell.auth import session_guard
from taskwell.db import migrate
from taskwell.settings import Settings
from tests.conftest import RATE_LIMIT_GROUPS, STRONG_PASSWORD, assert_problem
from tests.support import (
    LOGOUT,
    ME,
    REFRESH,
    REGISTER,
    TASKS,
    bearer,
    login,
    serve,
    sign_up,
)
from tests.support.processes import REDIS_SERVER, RedisProcess

pytestmark = pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed")

GRACE = 30.0


class GuardClock:
    """Stands in for the `time` module inside session_guard."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def monotonic(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Outage:
    client: httpx.AsyncClient
    redis: RedisProcess
    clock: GuardClock
    tokens: dict[str, Any]  # alice's session, checked once before the outage

    def stop_redis(self) -> None:
        self.redis.stop()
        assert not self.redis.ping()

    def start_redis(self) -> None:
        self.redis.start()


async def _never_500(response: httpx.Response) -> None:
    if response.status_code >= 500:
        await response.aread()
        assert response.status_code == 503, (response.request.url, response.text)


def assert_unavailable(response: httpx.Response) -> None:
    assert_problem(response, 503, "store-unavailable")
    assert int(response.headers["retry-after"]) >= 1


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def make_settings(tmp_path: Path, redis: RedisProcess, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'taskwell.db'}",
        "redis_url": redis.url(),
        "session_store_grace_seconds": GRACE,
        **{f"rate_limit_{group}": "100000/minute" for group in RATE_LIMIT_GROUPS},
        **overrides,
    }
    settings = Settings(**values)
    migrate.upgrade(settings)
    return settings


@pytest.fixture
def outage_settings(tmp_path: Path, redis_server: RedisProcess) -> Settings:
    return make_settings(tmp_path, redis_server)


@pytest.fixture
async def outage(
    outage_settings: Settings, redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Outage]:
    clock = GuardClock()
    monkeypatch.setattr(session_guard, "time", clock)
    async with serve(outage_settings, on_response=_never_500) as client:
        tokens = await sign_up(client, "alice@example.com")
        created = await client.post(TASKS, json={"title": "before"}, headers=bearer(tokens))
        assert created.status_code == 201
        assert (await client.get(ME, headers=bearer(tokens))).status_code == 200
        yield Outage(client, redis_server, clock, tokens)


async def test_valid_access_tokens_keep_working_within_the_grace(outage: Outage) -> None:
    client, alice = outage.client, bearer(outage.tokens)
    unseen = bearer((await login(client, "alice@example.com")).json())  # never checked yet
    outage.stop_redis()

    cached = await client.get(ME, headers=alice)
    outage.clock.advance(5)  # past the per-process session cache: the store is asked, and fails
    me = await client.get(ME, headers=alice)
    listed = await client.get(TASKS, headers=alice)
    created = await client.post(TASKS, json={"title": "during"}, headers=alice)
    read = await client.get(f"{TASKS}/{created.json()['id']}", headers=alice)
    patched = await client.patch(
        f"{TASKS}/{created.json()['id']}", json={"title": "during, edited"}, headers=alice
    )
    outage.clock.advance(GRACE - 6)
    never_seen_before = await client.get(ME, headers=unseen)
    listed_later = await client.get(TASKS, headers=alice)

    assert [r.status_code for r in (cached, me, listed, created, read, patched)] == [
        200,
        200,
        200,
        201,
        200,
        200,
    ]
    assert [t["title"] for t in listed.json()["items"]] == ["before"]
    assert never_seen_before.status_code == 200
    assert sorted(t["title"] for t in listed_later.json()["items"]) == [
        "before",
        "during, edited",
    ]


async def test_auth_routes_fail_closed_with_503(outage: Outage) -> None:
    client = outage.client
    outage.stop_redis()
    responses = [
        await login(client, "alice@example.com"),
        await login(client, "nobody@example.com", "a wrong password"),
        await client.post(REFRESH, json={"refresh_token": outage.tokens["refresh_token"]}),
        await client.post(REGISTER, json={"email": "bob@example.com", "password": STRONG_PASSWORD}),
        await client.post(LOGOUT, headers=bearer(outage.tokens)),
        await client.get("/api/v1/auth/sessions", headers=bearer(outage.tokens)),
    ]
    for response in responses:
        assert_unavailable(response)
    # Fail open: the default and per-user limits let the rest of the API through.
    assert (await client.get("/api/v1/openapi.json")).status_code == 200
    assert (await client.get(TASKS, headers=bearer(outage.tokens))).status_code == 200


@pytest.fixture
def login_and_refresh_closed(tmp_path: Path, redis_server: RedisProcess) -> Settings:
    return make_settings(tmp_path, redis_server, rate_limit_fail_closed="login,refresh")


async def test_auth_groups_can_be_configured_to_fail_open(
    login_and_refresh_closed: Settings, redis_server: RedisProcess
) -> None:
    """Only the groups listed fail closed; registration needs no other Redis state."""
    async with serve(login_and_refresh_closed, on_response=_never_500) as client:
        redis_server.stop()
        registered = await client.post(
            REGISTER, json={"email": "bob@example.com", "password": STRONG_PASSWORD}
        )
        logging_in = await login(client, "bob@example.com")
    assert registered.status_code == 201, registered.text
    assert_unavailable(logging_in)


async def test_after_the_grace_valid_tokens_get_503_too(outage: Outage) -> None:
    client, alice = outage.client, bearer(outage.tokens)
    outage.stop_redis()
    outage.clock.advance(2)
    within = await client.get(ME, headers=alice)
    outage.clock.advance(GRACE + 1)
    responses = [
        await client.get(ME, headers=alice),
        await client.get(TASKS, headers=alice),
        await client.post(TASKS, json={"title": "too late"}, headers=alice),
    ]
    unauthenticated = await client.get(TASKS)
    assert within.status_code == 200
    for response in responses:
        assert_unavailable(response)
    assert unauthenticated.status_code == 401


async def test_a_session_ended_before_the_outage_stays_ended(outage: Outage) -> None:
    client = outage.client
    ended = (await login(client, "alice@example.com")).json()
    assert (await client.get(ME, headers=bearer(ended))).status_code == 200
    assert (await client.post(LOGOUT, headers=bearer(ended))).status_code == 204
    never_used = (await login(client, "alice@example.com")).json()
    assert (await client.post(LOGOUT, headers=bearer(never_used))).status_code == 204
    outage.stop_redis()
    outage.clock.advance(5)
    after_logout = await client.get(ME, headers=bearer(ended))
    after_logout_unused = await client.get(ME, headers=bearer(never_used))
    still_valid = await client.get(ME, headers=bearer(outage.tokens))
    assert after_logout.status_code == 401
    assert after_logout_unused.status_code == 401
    assert still_valid.status_code == 200


async def test_everything_recovers_when_redis_returns_on_the_same_port(outage: Outage) -> None:
    client = outage.client
    outage.stop_redis()
    outage.clock.advance(2)
    assert (await client.get(ME, headers=bearer(outage.tokens))).status_code == 200
    assert_unavailable(await login(client, "alice@example.com"))
    created = await client.post(TASKS, json={"title": "during"}, headers=bearer(outage.tokens))
    assert created.status_code == 201
    outage.clock.advance(GRACE + 1)
    assert_unavailable(await client.get(ME, headers=bearer(outage.tokens)))

    outage.start_redis()  # the same port, and empty: this Redis keeps nothing on disk
    logged_in = await login(client, "alice@example.com")
    assert logged_in.status_code == 200, logged_in.text
    fresh = logged_in.json()
    me = await client.get(ME, headers=bearer(fresh))
    listed = await client.get(TASKS, headers=bearer(fresh))
    refreshed = await client.post(REFRESH, json={"refresh_token": fresh["refresh_token"]})
    registered = await client.post(
        REGISTER, json={"email": "bob@example.com", "password": STRONG_PASSWORD}
    )
    lost = await client.get(ME, headers=bearer(outage.tokens))  # its session died with Redis
    logged_out = await client.post(LOGOUT, headers=bearer(refreshed.json()))
    after_logout = await client.get(ME, headers=bearer(refreshed.json()))

    assert me.status_code == 200
    assert sorted(t["title"] for t in listed.json()["items"]) == ["before", "during"]
    assert refreshed.status_code == 200
    assert registered.status_code == 201
    assert lost.status_code == 401
    assert logged_out.status_code == 204
    assert after_logout.status_code == 401


@pytest.fixture
def impatient_settings(tmp_path: Path, redis_server: RedisProcess) -> Settings:
    return make_settings(tmp_path, redis_server, redis_timeout_seconds=0.1)


async def test_a_redis_that_hangs_is_an_outage_too(
    impatient_settings: Settings, redis_server: RedisProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Paused, not gone: connections stay open and nothing answers. Every call times out
    after redis_timeout_seconds, so each response still comes back promptly."""
    clock = GuardClock()
    monkeypatch.setattr(session_guard, "time", clock)
    assert redis_server.process is not None
    async with serve(impatient_settings, on_response=_never_500) as client:
        tokens = await sign_up(client, "alice@example.com")
        redis_server.process.send_signal(signal.SIGSTOP)
        try:
            clock.advance(2)
            started = time.monotonic()
            me = await client.get(ME, headers=bearer(tokens))
            created = await client.post(TASKS, json={"title": "t"}, headers=bearer(tokens))
            logging_in = await login(client, "alice@example.com")
            elapsed = time.monotonic() - started
        finally:
            redis_server.process.send_signal(signal.SIGCONT)
        again = await login(client, "alice@example.com")
    assert me.status_code == 200
    assert created.status_code == 201
    assert_unavailable(logging_in)
    assert elapsed < 5.0
    assert again.status_code == 200
