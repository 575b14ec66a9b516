"""The one migration history goes up from empty to head and back down, on each database."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path

import pytest
import sqlalchemy as sa

from taskwell.db import migrate
from taskwell.db.engine import make_engine
from taskwell.db.schema import include_object, metadata
from taskwell.search.schema import is_search_object
from taskwell.settings import Settings
from tests.conftest import PG_URL
from tests.support.scratch import scratch_database


@pytest.fixture(params=["sqlite", "postgres"])
def scratch_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'scratch.db'}"
    elif not PG_URL:
        pytest.skip("TASKWELL_TEST_DATABASE_URL is not set")
    else:
        with scratch_database("taskwell_migr_") as url:
            yield url


async def _tables(url: str) -> set[str]:
    engine = make_engine(Settings(env="test", database_url=url))
    try:
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: sa.inspect(c).get_table_names())
    finally:
        await engine.dispose()
    # Search's FTS5 tables (SQLite) are the migrations' own, not the models'.
    return {name for name in names if not is_search_object(name, "table")} - {"alembic_version"}


def test_upgrade_from_empty_to_head_then_back_to_base(scratch_url: str) -> None:
    settings = Settings(env="test", database_url=scratch_url)
    assert asyncio.run(_tables(scratch_url)) == set()

    migrate.upgrade(settings)
    assert asyncio.run(_tables(scratch_url)) == set(metadata.tables)

    migrate.downgrade(settings, "base")
    assert asyncio.run(_tables(scratch_url)) == set()

    migrate.upgrade(settings)
    assert asyncio.run(_tables(scratch_url)) == set(metadata.tables)


def test_migrations_match_the_models(scratch_url: str) -> None:
    """Autogenerate finds nothing to add: the models and the history agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    settings = Settings(env="test", database_url=scratch_url)
    migrate.upgrade(settings)

    async def diff() -> list[object]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: compare_metadata(
                        MigrationContext.configure(c, opts={"include_object": include_object}),
                        metadata,
                    )
                )
        finally:
            await engine.dispose()

    assert asyncio.run(diff()) == []


def _set_revision(path: str, revision: str) -> None:
    import sqlite3

    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


async def test_a_schema_newer_than_the_code_is_served_and_an_older_one_refused(
    tmp_path: Path,
) -> None:
    """A rolling deploy: the new release migrated (expand/contract), old instances keep serving
    and stay ready; code newer than the schema refuses to start."""
    import httpx
    from alembic.script import ScriptDirectory

    from taskwell.app import SchemaNotCurrent, create_app

    path = str(tmp_path / "rolling.db")
    settings = Settings(env="test", database_url=f"sqlite+aiosqlite:///{path}")
    await asyncio.to_thread(migrate.upgrade, settings)

    _set_revision(path, "f0f0f0f0f0f0")  # a revision this code has never heard of
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["migrations"] == "ahead"

    scripts = ScriptDirectory.from_config(migrate.alembic_config(settings))
    oldest = list(scripts.walk_revisions())[-1].revision
    _set_revision(path, oldest)
    app = create_app(settings)
    with pytest.raises(SchemaNotCurrent, match="taskwell db upgrade"):
        async with app.router.lifespan_context(app):
            pass


def test_existing_tasks_move_into_their_creators_new_inbox_and_back(scratch_url: str) -> None:
    """0005 gives every user an Inbox they own and moves each task there; its downgrade
    gives the tasks back to their creators."""
    settings = Settings(env="test", database_url=scratch_url)
    migrate.upgrade(settings, "0004")
    users = [uuid.uuid4(), uuid.uuid4()]
    tasks = {uuid.uuid4(): users[0], uuid.uuid4(): users[0], uuid.uuid4(): users[1]}

    async def run(statements: list[tuple[str, dict[str, object]]]) -> list[list[tuple]]:
        engine = make_engine(settings)
        results = []
        try:
            async with engine.begin() as conn:
                for sql, params in statements:
                    result = await conn.execute(sa.text(sql), params)
                    results.append(list(result.all()) if result.returns_rows else [])
        finally:
            await engine.dispose()
        return results

    from datetime import datetime

    now: object = (
        "2026-01-01 00:00:00"
        if scratch_url.startswith("sqlite")
        else datetime(2026, 1, 1, tzinfo=UTC)
    )
    hexed = (lambda u: u.hex) if scratch_url.startswith("sqlite") else (lambda u: u)
    seed: list[tuple[str, dict[str, object]]] = [
        (
            "INSERT INTO users (id, email, password_hash, created_at, updated_at) "
            "VALUES (:id, :email, 'x', :now, :now)",
            {"id": hexed(u), "email": f"u{i}@example.com", "now": now},
        )
        for i, u in enumerate(users)
    ]
    seed += [
        (
            "INSERT INTO tasks (id, owner_id, title, position, created_at, updated_at) "
            "VALUES (:id, :owner, 'old', 1024, :now, :now)",
            {"id": hexed(t), "owner": hexed(owner), "now": now},
        )
        for t, owner in tasks.items()
    ]
    asyncio.run(run(seed))

    migrate.upgrade(settings)
    [rows] = asyncio.run(
        run(
            [
                (
                    "SELECT t.id, t.created_by, p.owner_id, p.is_inbox, p.name, m.role "
                    "FROM tasks t JOIN projects p ON p.id = t.project_id "
                    "JOIN project_members m ON m.project_id = p.id AND m.user_id = t.created_by",
                    {},
                )
            ]
        )
    )
    assert len(rows) == len(tasks)
    for _task, created_by, owner, is_inbox, name, role in rows:
        assert str(created_by).replace("-", "") == str(owner).replace("-", "")
        assert is_inbox
        assert name == "Inbox"
        assert role == "owner"
    [inboxes] = asyncio.run(run([("SELECT count(*) FROM projects WHERE is_inbox", {})]))
    assert inboxes[0][0] == len(users)

    migrate.downgrade(settings, "0004")
    [back] = asyncio.run(run([("SELECT id, owner_id FROM tasks", {})]))
    assert {str(t).replace("-", ""): str(o).replace("-", "") for t, o in back} == {
        t.hex: o.hex for t, o in tasks.items()
    }


def test_undoing_webhooks_takes_the_reminder_changes_the_older_release_cannot_read(
    scratch_url: str,
) -> None:
    """0012 brings the `reminder` entity into the change feed; the release before has no
    loader for it, so its downgrade removes those rows (and only those)."""
    settings = Settings(env="test", database_url=scratch_url)
    migrate.upgrade(settings)

    async def run(statement: str, **params: object) -> list[tuple[object, ...]]:
        engine = make_engine(settings)
        try:
            async with engine.begin() as conn:
                result = await conn.execute(sa.text(statement), params)
                return list(result.all()) if result.returns_rows else []
        finally:
            await engine.dispose()

    user = uuid.uuid4()
    hexed = user.hex if scratch_url.startswith("sqlite") else user
    for entity in ("reminder", "label"):
        asyncio.run(
            run(
                "INSERT INTO changes (user_id, entity, entity_id, op, at) "
                "VALUES (:user, :entity, :user, 'upsert', CURRENT_TIMESTAMP)",
                user=hexed,
                entity=entity,
            )
        )
    migrate.downgrade(settings, "0011")
    assert asyncio.run(run("SELECT entity FROM changes")) == [("label",)]


def test_the_list_filter_columns_are_filled_for_tasks_that_exist(scratch_url: str) -> None:
    """0013 and 0014 (PostgreSQL) fill tasks.label_ids and tasks.match_text for the tasks
    already there, and going down and up again rebuilds them."""
    if scratch_url.startswith("sqlite"):
        pytest.skip("the columns are PostgreSQL's only")
    import httpx

    from taskwell.app import create_app

    settings = Settings(env="test", database_url=scratch_url)
    migrate.upgrade(settings)
    password = "violet tractor sings under 42 lanterns"

    async def make_data() -> tuple[str, str]:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                account = {"email": "ada@example.com", "password": password}
                assert (await client.post("/api/v1/auth/register", json=account)).is_success
                login = await client.post("/api/v1/auth/login", json=account)
                headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
                label = await client.post("/api/v1/labels", json={"name": "x"}, headers=headers)
                task = await client.post(
                    "/api/v1/tasks",
                    json={
                        "title": "Äpfel",
                        "description": "Kaufen",
                        "labels": [label.json()["id"]],
                    },
                    headers=headers,
                )
                assert task.status_code == 201, task.text
                return str(task.json()["id"]), str(label.json()["id"])

    async def columns(task: str) -> tuple[object, ...]:
        engine = make_engine(settings)
        try:
            async with engine.connect() as conn:
                row = await conn.execute(
                    sa.text("SELECT label_ids, match_text FROM tasks WHERE id = :id"), {"id": task}
                )
                return tuple(row.one())
        finally:
            await engine.dispose()

    task, label = asyncio.run(make_data())
    expected = ([uuid.UUID(label)], "äpfel\nkaufen")
    assert asyncio.run(columns(task)) == expected
    migrate.downgrade(settings, "0012")
    migrate.upgrade(settings)
    assert asyncio.run(columns(task)) == expected
