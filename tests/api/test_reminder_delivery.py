"""Due reminders reach their user as a change (GET /sync, the event stream) and as a
`reminder.due` webhook, once each, also with several workers claiming at the same time."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.changes.models import changes
from taskwell.context import AppContext
from taskwell.db.types import utcnow
from taskwell.reminders.models import reminders
from taskwell.settings import Settings
from taskwell.webhooks.models import webhook_deliveries
from taskwell.worker.loop import Worker
from tests.conftest import Account
from tests.support.receiver import Receiver, verify

API = "/api/v1"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(
        argon2_memory_kib=8,
        argon2_time_cost=1,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def worker(app: FastAPI) -> AsyncIterator[Worker]:
    async with Worker.open(app.state.context) as opened:
        yield opened


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def task_with_reminder(
    client: httpx.AsyncClient, account: Account, title: str = "Call the plumber", ago: int = 60
) -> tuple[dict[str, Any], dict[str, Any]]:
    task = await _ok(
        await client.post(f"{API}/tasks", json={"title": title}, headers=account.headers), 201
    )
    when = (utcnow() - timedelta(seconds=ago)).isoformat()
    reminder = await _ok(
        await client.post(
            f"{API}/tasks/{task['id']}/reminders", json={"remind_at": when}, headers=account.headers
        ),
        201,
    )
    return task, reminder


async def test_a_due_reminder_arrives_once_as_a_change_and_a_webhook(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await _ok(
        await client.post(
            f"{API}/webhooks",
            json={"url": receiver.url, "event_types": ["reminder.due"]},
            headers=alice.headers,
        ),
        201,
    )
    token = (await _ok(await client.get(f"{API}/sync", headers=alice.headers)))["token"]
    task, reminder = await task_with_reminder(client, alice)

    await worker.run_until_idle()
    await worker.run_until_idle()

    expected = {
        "id": reminder["id"],
        "task_id": task["id"],
        "remind_at": reminder["remind_at"],
        "title": "Call the plumber",
    }
    [received] = receiver.requests
    assert received.json()["type"] == "reminder.due"
    assert received.json()["data"] == expected
    assert verify(hook["secret"], received.headers, received.body)
    synced = await _ok(
        await client.get(f"{API}/sync", params={"since": token}, headers=alice.headers)
    )
    [change] = [c for c in synced["changes"] if c["entity"] == "reminder"]
    assert change == {"entity": "reminder", "id": reminder["id"], "op": "upsert", "data": expected}
    listed = await _ok(
        await client.get(f"{API}/tasks/{task['id']}/reminders", headers=alice.headers)
    )
    assert listed["items"][0]["delivered_at"] is not None


async def test_a_reminder_not_yet_due_waits(
    client: httpx.AsyncClient, alice: Account, worker: Worker
) -> None:
    task, _ = await task_with_reminder(client, alice, ago=-3600)

    await worker.run_until_idle()

    listed = await _ok(
        await client.get(f"{API}/tasks/{task['id']}/reminders", headers=alice.headers)
    )
    assert listed["items"][0]["delivered_at"] is None


async def test_a_reminder_on_a_task_its_user_can_no_longer_see_is_not_announced(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, worker: Worker
) -> None:
    task, reminder = await task_with_reminder(client, alice)
    deleted = await client.delete(f"{API}/tasks/{task['id']}", headers=alice.headers)
    assert deleted.status_code == 204

    await worker.run_until_idle()

    async with app.state.context.db.engine.connect() as conn:
        delivered = (
            await conn.execute(
                sa.select(reminders.c.delivered_at).where(
                    reminders.c.id == uuid.UUID(reminder["id"])
                )
            )
        ).scalar_one()
        announced = (
            await conn.execute(sa.select(sa.func.count()).where(changes.c.entity == "reminder"))
        ).scalar_one()
    assert delivered is not None
    assert announced == 0


async def test_several_workers_deliver_each_reminder_and_webhook_once(
    settings_factory: Callable[..., Settings],
    app: FastAPI,
    client: httpx.AsyncClient,
    make_account: Callable[..., Any],
    receiver: Receiver,
) -> None:
    """Four workers, each on its own pools (as separate processes would be), claim at once:
    on PostgreSQL with FOR UPDATE SKIP LOCKED and compare-and-set, on SQLite by taking turns."""
    accounts = [await make_account(f"user{n}@example.com") for n in range(3)]
    expected: set[str] = set()
    for account in accounts:
        await client.post(
            f"{API}/webhooks",
            json={"url": receiver.url, "event_types": ["reminder.due"]},
            headers=account.headers,
        )
        for n in range(4):
            task = await _ok(
                await client.post(f"{API}/tasks", json={"title": f"t{n}"}, headers=account.headers),
                201,
            )
            for minutes in range(5):
                when = (utcnow() - timedelta(minutes=minutes + 1)).isoformat()
                made = await _ok(
                    await client.post(
                        f"{API}/tasks/{task['id']}/reminders",
                        json={"remind_at": when},
                        headers=account.headers,
                    ),
                    201,
                )
                expected.add(made["id"])
    worker_settings = settings_factory(
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
        worker_batch_size=4,
        webhook_concurrency=3,
        db_pool_size=4,
        db_read_pool_size=1,
    )

    async with AsyncExitStack() as stack:
        workers = []
        for _ in range(4):
            ctx = await stack.enter_async_context(AppContext.open(worker_settings))
            workers.append(await stack.enter_async_context(Worker.open(ctx)))
        await asyncio.gather(*(w.run_until_idle() for w in workers))
        await asyncio.gather(*(w.run_until_idle() for w in workers))

    assert len(expected) == 60
    announced = [r.json()["data"]["id"] for r in receiver.requests]
    assert sorted(announced) == sorted(expected)  # each once: none lost, none twice
    assert len({r.id for r in receiver.requests}) == 60
    async with app.state.context.db.engine.connect() as conn:
        feed_rows = (
            await conn.execute(
                sa.select(changes.c.entity_id, sa.func.count())
                .where(changes.c.entity == "reminder")
                .group_by(changes.c.entity_id)
            )
        ).all()
        states = (
            await conn.execute(sa.select(webhook_deliveries.c.state, webhook_deliveries.c.attempts))
        ).all()
        pending = (
            await conn.execute(sa.select(sa.func.count()).where(reminders.c.delivered_at.is_(None)))
        ).scalar_one()
    assert {str(entity_id) for entity_id, _ in feed_rows} == expected
    assert all(count == 1 for _, count in feed_rows)
    assert sorted(states) == [("delivered", 1)] * 60
    assert pending == 0
