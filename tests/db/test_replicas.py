"""Read replicas against a real primary and a real streaming replica (tests/support/postgres_pair).

Replay is paused on the replica (pg_wal_replay_pause) to make it stale on purpose: a stale
replica must never hide a reader's own writes, must serve others while within the lag limit,
and must be skipped past it; a stopped replica must cost no errors.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from prometheus_client import REGISTRY

from taskwell.app import create_app
from taskwell.db import migrate
from taskwell.db.replicas import ReplicaSet, parse_lsn
from taskwell.settings import Settings
from tests.conftest import RATE_LIMIT_GROUPS, REDIS_URL, STRONG_PASSWORD
from tests.support.postgres_pair import PostgresPair, postgres_pair

MAX_LAG = 3.0


@pytest.fixture(scope="module")
def pair() -> Iterator[PostgresPair]:
    with postgres_pair() as running:
        migrate.upgrade(Settings(env="test", database_url=running.primary_url))
        yield running


def _settings(pair: PostgresPair, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "env": "test",
        "database_url": pair.primary_url,
        "database_replica_urls": pair.replica_url,
        "db_replica_max_lag_seconds": MAX_LAG,
        "db_replica_check_interval_seconds": 0.1,
        # Rows inserted behind the app's back must not be hidden by the read cache.
        "cache_enabled": False,
        **{f"rate_limit_{group}": "100000/minute" for group in RATE_LIMIT_GROUPS},
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _sign_in(client: httpx.AsyncClient, email: str) -> dict[str, str]:
    r = await client.post(
        "/api/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _routed(outcome: str) -> float:
    value = REGISTRY.get_sample_value("taskwell_db_replica_routing_total", {"outcome": outcome})
    return value or 0.0


def _replica_up(pair: PostgresPair) -> float | None:
    name = f"127.0.0.1:{pair.replica_port}/taskwell"
    return REGISTRY.get_sample_value("taskwell_db_replica_up", {"replica": name})


async def _on(url: str, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


@asynccontextmanager
async def replay_paused(pair: PostgresPair) -> AsyncIterator[None]:
    """The replica stops replaying the primary's WAL: it stays up, and falls behind."""
    await _on(pair.replica_url, "SELECT pg_wal_replay_pause()")
    try:
        yield
    finally:
        await _on(pair.replica_url, "SELECT pg_wal_replay_resume()")


async def _titles(client: httpx.AsyncClient, headers: dict[str, str]) -> list[str]:
    r = await client.get("/api/v1/tasks", headers=headers)
    assert r.status_code == 200, r.text
    return [item["title"] for item in r.json()["items"]]


async def _until(condition: Any, seconds: float = 20.0) -> None:
    """Poll condition() (async) until true, at most `seconds`."""
    for _ in range(int(seconds / 0.1)):
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not reached in time")


async def _replica_in_use(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    async def served_by_replica() -> bool:
        before = _routed("replica")
        await _titles(client, headers)
        return _routed("replica") > before

    await _until(served_by_replica)


async def test_a_stale_replica_serves_others_but_never_hides_your_own_writes(
    pair: PostgresPair,
) -> None:
    async with running_app(_settings(pair)) as client:
        alice = await _sign_in(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        bob = await _sign_in(client, f"bob-{uuid.uuid4().hex[:8]}@example.com")
        await _replica_in_use(client, bob)
        bob_id = (await client.get("/api/v1/users/me", headers=bob)).json()["id"]

        async with replay_paused(pair):
            # Alice's own write: her next reads see it although the replica has not replayed it.
            r = await client.post("/api/v1/tasks", json={"title": "mine"}, headers=alice)
            assert r.status_code == 201, r.text
            behind = _routed("behind")
            assert await _titles(client, alice) == ["mine"]
            r = await client.get(f"/api/v1/tasks/{r.json()['id']}", headers=alice)
            assert r.status_code == 200
            assert _routed("behind") >= behind + 2

            # A row Bob did not write through the app (no write mark): while the replica is within
            # the lag limit, Bob's reads are the replica's, which has not replayed it...
            await _on(
                pair.primary_url,
                "INSERT INTO tasks (id, project_id, created_by, title, description, status, "
                "priority, position, version, created_at, updated_at) VALUES ($1, "
                "(SELECT id FROM projects WHERE owner_id = $2 AND is_inbox), $2, "
                "'behind his back', '', 'todo', 0, 1, 1, now(), now())",
                uuid.uuid4(),
                uuid.UUID(bob_id),
            )
            assert await _titles(client, bob) == []

            # ...and once it lags past TASKWELL_DB_REPLICA_MAX_LAG_SECONDS it is skipped.
            async def bob_sees_it() -> bool:
                return await _titles(client, bob) == ["behind his back"]

            await _until(bob_sees_it, MAX_LAG * 5)
            assert _replica_up(pair) == 0
        # Caught up again: used again.
        await _replica_in_use(client, bob)
        assert _replica_up(pair) == 1


async def test_a_stopped_replica_costs_no_errors_and_is_used_again_when_back(
    pair: PostgresPair,
) -> None:
    async with running_app(_settings(pair)) as client:
        alice = await _sign_in(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        r = await client.post("/api/v1/tasks", json={"title": "kept"}, headers=alice)
        assert r.status_code == 201
        await _replica_in_use(client, alice)

        pair.stop_replica()
        try:
            # Pooled connections to it are dead now; every read still answers, from the primary.
            for _ in range(20):
                assert await _titles(client, alice) == ["kept"]
            assert _replica_up(pair) == 0
        finally:
            pair.start_replica()
        await _replica_in_use(client, alice)
        assert await _titles(client, alice) == ["kept"]


@pytest.mark.skipif(not REDIS_URL, reason="needs TASKWELL_TEST_REDIS_URL")
async def test_read_your_writes_holds_across_instances_through_redis(pair: PostgresPair) -> None:
    # Two instances share the session store and the write marks in Redis.
    settings = _settings(pair, redis_url=REDIS_URL)
    async with running_app(settings) as first, running_app(settings) as second:
        alice = await _sign_in(first, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        await _replica_in_use(first, alice)
        await _replica_in_use(second, alice)
        async with replay_paused(pair):
            r = await first.post("/api/v1/tasks", json={"title": "written on one"}, headers=alice)
            assert r.status_code == 201, r.text
            behind = _routed("behind")
            # The second instance would find the frozen replica usable, but not for Alice.
            assert await _titles(second, alice) == ["written on one"]
            assert _routed("behind") > behind


async def test_reads_use_the_primary_alone_without_replicas(pair: PostgresPair) -> None:
    before = {o: _routed(o) for o in ("replica", "behind", "unavailable", "error")}
    async with running_app(_settings(pair, database_replica_urls="")) as client:
        alice = await _sign_in(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        await client.post("/api/v1/tasks", json={"title": "one"}, headers=alice)
        assert await _titles(client, alice) == ["one"]
    assert {o: _routed(o) for o in before} == before


def test_lsn_text_is_ordered_as_wal_positions() -> None:
    assert parse_lsn("0/16B3748") < parse_lsn("0/16B3750") < parse_lsn("1/0")
    assert parse_lsn("16/B374D848") == (0x16 << 32) | 0xB374D848


def test_lag_is_the_age_of_the_newest_primary_position_replayed() -> None:
    replicas = ReplicaSet(
        primary=None,  # type: ignore[arg-type]
        replicas=[],
        marks=None,  # type: ignore[arg-type]
        max_lag_seconds=2.0,
        check_interval_seconds=0.5,
    )
    replicas._history.extend([(10.0, 100), (10.5, 200), (11.0, 300)])
    assert replicas.lag(300, now=11.1) == 0.0  # has the newest position
    assert replicas.lag(250, now=11.1) == pytest.approx(0.6)  # has what was current at 10.5
    assert replicas.lag(50, now=11.1) > 2.0  # older than anything remembered: past the limit


async def test_checks_go_on_while_the_read_pools_are_busy(pair: PostgresPair) -> None:
    # One connection per read pool, held by slow reads: the health checks have their own.
    settings = _settings(pair, db_read_pool_size=1, db_replica_pool_size=1)
    async with running_app(settings) as client:
        alice = await _sign_in(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        await _replica_in_use(client, alice)
        app = client._transport.app  # type: ignore[attr-defined]
        db = app.state.context.db
        slow = db.prepare(sa.select(sa.func.pg_sleep(2.0)))
        holding = asyncio.create_task(db.fetch(slow))
        try:
            await asyncio.sleep(1.0)  # ten check intervals with the primary's pool taken
            assert _replica_up(pair) == 1
            before = _routed("replica")
            assert await _titles(client, alice) == []
            assert _routed("replica") > before
        finally:
            await holding


async def test_a_change_in_a_shared_project_is_seen_at_once_by_every_member(
    pair: PostgresPair,
) -> None:
    """Alice's write marks every member of the project, so Bob (who wrote nothing) is not
    served from a replica that has not replayed it."""
    async with running_app(_settings(pair)) as client:
        alice = await _sign_in(client, f"alice-{uuid.uuid4().hex[:8]}@example.com")
        bob_email = f"bob-{uuid.uuid4().hex[:8]}@example.com"
        bob = await _sign_in(client, bob_email)
        project = (await client.post("/api/v1/projects", json={"name": "P"}, headers=alice)).json()
        r = await client.post(
            f"/api/v1/projects/{project['id']}/members",
            json={"email": bob_email, "role": "viewer"},
            headers=alice,
        )
        assert r.status_code == 201, r.text
        await _replica_in_use(client, bob)
        async with replay_paused(pair):
            r = await client.post(
                "/api/v1/tasks",
                json={"title": "shared", "project_id": project["id"]},
                headers=alice,
            )
            assert r.status_code == 201, r.text
            assert await _titles(client, bob) == ["shared"]
