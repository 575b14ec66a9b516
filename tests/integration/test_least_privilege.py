"""The service runs as a role that can read and write rows but not change the schema.

Two roles, as docs/database-security.md sets them up: tw_h10_owner owns the database and runs
the migrations; tw_h10_app has CONNECT, USAGE on the schema and row rights on the tables and
sequences, granted for the existing tables and, by default privileges, for those that later
migrations add. Runs against the PostgreSQL server of TASKWELL_TEST_DATABASE_URL (whose user must
be allowed to create roles and databases) and skips without it.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell import maintenance
from taskwell.app import create_app
from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.settings import Settings
from tests.conftest import PG_URL, STRONG_PASSWORD

pytestmark = pytest.mark.skipif(not PG_URL, reason="TASKWELL_TEST_DATABASE_URL is not set")

DATABASE, OWNER, APP = "tw_h10_lp", "tw_h10_owner", "tw_h10_app"
CONNECT_TIMEOUT = 20  # seconds
INSUFFICIENT_PRIVILEGE = "42501"

# Run by the owner in the application database; the same SQL as docs/database-security.md.
APP_ROLE_GRANTS = (
    "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    f"GRANT USAGE ON SCHEMA public TO {APP}",
    f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP}",
    f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public"
    f" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {APP}",
    f"ALTER DEFAULT PRIVILEGES FOR ROLE {OWNER} IN SCHEMA public"
    f" GRANT USAGE, SELECT ON SEQUENCES TO {APP}",
)


@dataclass(frozen=True)
class TwoRoles:
    owner_url: str
    app_url: str


def _url(user: str, password: str, database: str = DATABASE) -> str:
    url = sa.make_url(PG_URL).set(username=user, password=password, database=database)
    return url.render_as_string(hide_password=False)


def _dsn(url: str) -> str:
    """asyncpg's own DSN for an SQLAlchemy URL (same place, plain postgresql scheme)."""
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


async def _execute(url: str, *statements: str) -> None:
    conn = await asyncpg.connect(_dsn(url), timeout=CONNECT_TIMEOUT)
    try:
        for statement in statements:
            await asyncio.wait_for(conn.execute(statement), CONNECT_TIMEOUT)
    finally:
        await conn.close(timeout=CONNECT_TIMEOUT)


def _drop_everything() -> None:
    asyncio.run(
        _execute(
            PG_URL,
            f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)",
            f"DROP ROLE IF EXISTS {APP}",
            f"DROP ROLE IF EXISTS {OWNER}",
        )
    )


@pytest.fixture(scope="module")
def two_roles() -> Iterator[TwoRoles]:
    owner_password, app_password = secrets.token_urlsafe(18), secrets.token_urlsafe(18)
    owner_url, app_url = _url(OWNER, owner_password), _url(APP, app_password)
    _drop_everything()  # whatever an interrupted earlier run left behind
    try:
        asyncio.run(
            _execute(
                PG_URL,
                f"CREATE ROLE {OWNER} LOGIN PASSWORD '{owner_password}'",
                f"CREATE ROLE {APP} LOGIN PASSWORD '{app_password}'",
                f"CREATE DATABASE {DATABASE} OWNER {OWNER}",
                f"REVOKE ALL ON DATABASE {DATABASE} FROM PUBLIC",
                f"GRANT CONNECT ON DATABASE {DATABASE} TO {APP}",
            )
        )
        owner = Settings(env="test", database_url=owner_url)
        # The schema as an older release left it; the grants; then the later migrations, whose
        # tables (audit events, with their sequence) reach the app role by default privileges.
        migrate.upgrade(owner, "0001")
        asyncio.run(_execute(owner_url, *APP_ROLE_GRANTS))
        migrate.upgrade(owner, "head")
        yield TwoRoles(owner_url, app_url)
    finally:
        _drop_everything()


def _app_settings(two_roles: TwoRoles) -> Settings:
    return Settings(env="test", database_url=two_roles.app_url, maintenance_interval_seconds=0)


async def test_the_app_runs_as_the_app_role(two_roles: TwoRoles) -> None:
    app = create_app(_app_settings(two_roles))
    async with asyncio.timeout(60), app.router.lifespan_context(app):
        async with app.state.context.db.transaction() as conn:
            who = (await conn.execute(sa.text("SELECT current_user"))).scalar_one()
        assert who == APP
        await _register_login_create_and_list(app)
        await maintenance.run_once(app.state.context)  # housekeeping needs DELETE only


async def _register_login_create_and_list(app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        account = {"email": "least@example.com", "password": STRONG_PASSWORD}
        registered = await client.post("/api/v1/auth/register", json=account)
        assert registered.status_code == 201, registered.text
        login = await client.post("/api/v1/auth/login", json=account)
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        created = await client.post("/api/v1/tasks", json={"title": "least"}, headers=headers)
        assert created.status_code == 201, created.text
        task = created.json()
        edited = await client.patch(
            f"/api/v1/tasks/{task['id']}", json={"title": "least privilege"}, headers=headers
        )
        assert edited.status_code == 200, edited.text
        listed = await client.get("/api/v1/tasks", headers=headers)
        assert listed.status_code == 200, listed.text
        assert [t["title"] for t in listed.json()["items"]] == ["least privilege"]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("CREATE TABLE tw_h10_probe (id integer)", "permission denied for schema public"),
        ("DROP TABLE tasks", "must be owner of table tasks"),
        ("ALTER TABLE users ADD COLUMN is_root boolean", "must be owner of table users"),
        ("TRUNCATE audit_events", "permission denied for table audit_events"),
        ("CREATE INDEX tw_h10_probe_ix ON tasks (title)", "must be owner of table tasks"),
    ],
)
async def test_the_app_role_cannot_change_the_schema(
    two_roles: TwoRoles, statement: str, message: str
) -> None:
    with pytest.raises(asyncpg.InsufficientPrivilegeError, match=message) as denied:
        await _execute(two_roles.app_url, statement)
    assert denied.value.sqlstate == INSUFFICIENT_PRIVILEGE


async def test_migrations_run_as_the_app_role_change_nothing(two_roles: TwoRoles) -> None:
    app_settings = _app_settings(two_roles)
    # At head, an upgrade has nothing to do (so auto-migrate on start is harmless)...
    await asyncio.wait_for(asyncio.to_thread(migrate.upgrade, app_settings), 60)
    # ...and anything that would change the schema is refused (the first step down drops
    # search's indexes, which belong to the owner of their table).
    with pytest.raises(sa.exc.DBAPIError, match=r"must be owner of (table|index)"):
        await asyncio.wait_for(asyncio.to_thread(migrate.downgrade, app_settings, "0002"), 60)
    # Transactional DDL: nothing was half-done, the schema is still at head.
    engine = make_engine(app_settings)
    try:
        current = await asyncio.wait_for(migrate.current_revision(engine), CONNECT_TIMEOUT)
    finally:
        await engine.dispose()
    assert current == migrate.head_revision(app_settings)
