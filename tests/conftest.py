"""Fixtures: every API test runs on the embedded default and, when configured, at scale.

The embedded default is SQLite with in-process sessions, cache and limits. With
TASKWELL_TEST_DATABASE_URL (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test) the suite runs
again on PostgreSQL, and with TASKWELL_TEST_REDIS_URL (e.g. redis://127.0.0.1:6379/15) that run
also keeps sessions, cache and limits in Redis. The PostgreSQL `public` schema is dropped and
rebuilt by the migrations at the start; the Redis database is flushed before every test.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import create_async_engine

from taskwell.app import create_app
from taskwell.db import migrate
from taskwell.db.schema import metadata
from taskwell.settings import Settings
from tests import workers

# Under pytest-xdist each worker has a database and a Redis database of its own (tests/workers.py).
PG_URL = workers.database_url(os.environ.get("TASKWELL_TEST_DATABASE_URL", ""))
REDIS_URL = workers.redis_url(os.environ.get("TASKWELL_TEST_REDIS_URL", ""))
# Once more through PgBouncer in transaction mode (tests/support/pgbouncer.py).
THROUGH_PGBOUNCER = bool(PG_URL) and os.environ.get("TASKWELL_TEST_PGBOUNCER") == "1"
BACKENDS = (
    ["sqlite"] + (["postgres"] if PG_URL else []) + (["pgbouncer"] if THROUGH_PGBOUNCER else [])
)
RATE_LIMIT_GROUPS = ("default", "user", "login", "login_account", "register", "refresh")
STRONG_PASSWORD = "violet tractor sings under 42 lanterns"


def pytest_sessionstart(session: pytest.Session) -> None:
    if PG_URL:
        asyncio.run(workers.ensure_database(PG_URL))


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pgbouncer_url() -> Iterator[str]:
    from tests.support.pgbouncer import pgbouncer_in_front_of

    with pgbouncer_in_front_of(PG_URL) as url:
        yield url


@pytest.fixture(scope="session", params=BACKENDS)
def database_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def database_url(
    database_backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> str:
    if database_backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'taskwell.db'}"
        migrate.upgrade(Settings(env="test", database_url=url))
        return url
    # The schema is rebuilt on the server itself; the app may then reach it through PgBouncer.
    asyncio.run(reset_postgres(PG_URL))
    migrate.upgrade(Settings(env="test", database_url=PG_URL))
    if database_backend == "pgbouncer":
        bouncer: str = request.getfixturevalue("pgbouncer_url")
        return bouncer
    return PG_URL


@pytest.fixture
def redis_url(database_url: str) -> str | None:
    """Redis backs the PostgreSQL run (the scaled-out shape); SQLite runs in-process."""
    if database_url.startswith("sqlite") or not REDIS_URL:
        return None
    return REDIS_URL


@pytest.fixture
async def _clean_redis(redis_url: str | None) -> None:
    if redis_url is None:
        return
    from redis.asyncio import Redis

    client = Redis.from_url(redis_url)
    try:
        await client.flushdb()
    finally:
        await client.aclose()


@pytest.fixture
def settings_factory(
    database_backend: str, database_url: str, redis_url: str | None, _clean_redis: None
) -> Callable[..., Settings]:
    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "env": "test",
            "database_url": database_url,
            "redis_url": redis_url,
            # PgBouncer in transaction mode: no named prepared statements (docs/scaling.md).
            **({"db_statement_cache_size": 0} if database_backend == "pgbouncer" else {}),
            # Generous limits so the suite's own traffic is never throttled; the rate-limit
            # tests set tight ones.
            **{f"rate_limit_{group}": "100000/minute" for group in RATE_LIMIT_GROUPS},
        }
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory()


async def _empty_tables(app: FastAPI) -> None:
    async with app.state.context.db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        await _empty_tables(application)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


class Account:
    """A registered, logged-in user and the headers that act as them."""

    def __init__(self, email: str, password: str, tokens: dict[str, Any]) -> None:
        self.email = email
        self.password = password
        self.tokens = tokens

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens['access_token']}"}


@pytest.fixture
def make_account(client: httpx.AsyncClient) -> Callable[..., Any]:
    async def make(email: str = "ada@example.com", password: str = STRONG_PASSWORD) -> Account:
        r = await client.post("/api/v1/auth/register", json={"email": email, "password": password})
        assert r.status_code == 201, r.text
        r = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return Account(email, password, r.json())

    return make


@pytest.fixture
async def alice(make_account: Callable[..., Any]) -> Account:
    account: Account = await make_account("alice@example.com")
    return account


@pytest.fixture
async def bob(make_account: Callable[..., Any]) -> Account:
    account: Account = await make_account("bob@example.com")
    return account


def assert_problem(
    response: httpx.Response, status: int, slug: str | None = None
) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:taskwell:problem:")
    assert body["title"]
    assert body["detail"]
    assert body["request_id"] == response.headers["x-request-id"]
    if slug is not None:
        assert body["type"] == f"urn:taskwell:problem:{slug}", body
    return body
