"""Deleting a label while a bulk change runs: the cascade's trigger updates the label's tasks
(tasks.label_ids), so both take the tasks in id order and neither waits on the other."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from tests.conftest import Account

API = "/api/v1"
TASKS = f"{API}/tasks"


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _lock_waiters(conn: AsyncConnection) -> int:
    found = await conn.execute(
        sa.text(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        )
    )
    return int(found.scalar_one())


async def _until_waiting(
    conn: AsyncConnection, count: int, finished: asyncio.Task[Any] | None = None
) -> None:
    """Until `count` sessions wait on a lock (or `finished` is done: it had none to wait for)."""
    for _ in range(200):  # bounded: 10 s at most
        if await _lock_waiters(conn) >= count or (finished is not None and finished.done()):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never saw {count} sessions waiting on a lock")


async def test_deleting_a_label_while_a_bulk_change_runs_does_not_deadlock(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    """Before the mirror, deleting a label only deleted task_labels rows (by cascade) and
    never locked a task. Now the trigger updates every labelled task, one by one, in the
    cascade's order, while a bulk change locks its tasks in the request's order: the two
    meet from opposite ends and PostgreSQL aborts one of them (40P01, answered 500).

    A third writer holding one task for a moment (here a plain row lock) is only what lines
    the two up deterministically; it is what any single PATCH of that task does."""
    db = app.state.context.db
    if db.dialect.name != "postgresql":
        pytest.skip("the mirror is PostgreSQL's")
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "x"}, headers=alice.headers), 201
    )
    ids = []
    for i in range(7):
        body = await _ok(
            await client.post(TASKS, json={"title": f"t{i}"}, headers=alice.headers), 201
        )
        ids.append(body["id"])
    ids.sort()  # uuid order is the index's order; labelled in it, it is also the heap's
    await _ok(
        await client.post(
            f"{TASKS}/bulk",
            json={
                "items": [{"id": t} for t in ids],
                "action": "label",
                "add_labels": [label["id"]],
            },
            headers=alice.headers,
        )
    )
    middle = ids[3]
    engine = create_async_engine(str(db.engine.url.render_as_string(hide_password=False)))
    try:
        async with engine.connect() as holder, engine.connect() as watcher:
            await watcher.execution_options(isolation_level="AUTOCOMMIT")
            tx = await holder.begin()
            await holder.execute(
                sa.text("SELECT 1 FROM tasks WHERE id = :id FOR UPDATE"), {"id": middle}
            )
            bulk = asyncio.create_task(
                client.post(
                    f"{TASKS}/bulk",
                    json={"items": [{"id": t} for t in reversed(ids)], "action": "complete"},
                    headers=alice.headers,
                )
            )
            await _until_waiting(watcher, 1)
            delete = asyncio.create_task(
                client.delete(f"{API}/labels/{label['id']}", headers=alice.headers)
            )
            await _until_waiting(watcher, 2, delete)
            await tx.commit()
            bulk_response, delete_response = await asyncio.wait_for(
                asyncio.gather(bulk, delete), timeout=30
            )
    finally:
        await engine.dispose()
    assert (bulk_response.status_code, delete_response.status_code) == (200, 204), (
        bulk_response.text,
        delete_response.text,
    )
