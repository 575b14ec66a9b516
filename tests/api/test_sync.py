"""GET /sync: every change since a token, none skipped, as states and tombstones."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import create_async_engine

from taskwell.changes.feed import Token
from taskwell.changes.models import changes
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

API = "/api/v1"
SYNC = f"{API}/sync"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


class Client:
    """A device: it loads nothing but what sync tells it, and keeps the last token."""

    def __init__(self, client: httpx.AsyncClient, account: Account) -> None:
        self.client = client
        self.account = account
        self.token: str | None = None
        self.state: dict[tuple[str, str], dict[str, Any]] = {}

    async def start(self) -> None:
        self.token = (await _ok(await self.client.get(SYNC, headers=self.account.headers)))["token"]

    async def sync(self, limit: int | None = None) -> list[dict[str, Any]]:
        seen = []
        while True:
            params: dict[str, Any] = {"since": self.token}
            if limit is not None:
                params["limit"] = limit
            body = await _ok(
                await self.client.get(SYNC, params=params, headers=self.account.headers)
            )
            for change in body["changes"]:
                key = (change["entity"], change["id"])
                if change["op"] == "delete":
                    self.state.pop(key, None)
                else:
                    self.state[key] = change["data"]
            seen.extend(body["changes"])
            self.token = body["token"]
            if not body["has_more"]:
                return seen

    def tasks(self) -> dict[str, dict[str, Any]]:
        return {key[1]: data for key, data in self.state.items() if key[0] == "task"}


async def _task(client: httpx.AsyncClient, who: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "t")
    body: dict[str, Any] = await _ok(
        await client.post(f"{API}/tasks", json=fields, headers=who.headers), 201
    )
    return body


async def test_without_a_token_only_a_token(client: httpx.AsyncClient, alice: Account) -> None:
    await _task(client, alice)
    body = await _ok(await client.get(SYNC, headers=alice.headers))
    assert body["changes"] == []
    assert body["has_more"] is False
    again = await _ok(
        await client.get(SYNC, params={"since": body["token"]}, headers=alice.headers)
    )
    assert again["changes"] == []


async def test_changes_come_once_as_their_latest_state_then_tombstones(
    client: httpx.AsyncClient, alice: Account
) -> None:
    device = Client(client, alice)
    await device.start()
    task = await _task(client, alice, title="first")
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"title": "second"}, headers=alice.headers
        )
    )
    changes = await device.sync()
    assert [(c["entity"], c["op"]) for c in changes] == [("task", "upsert")]
    assert changes[0]["data"]["title"] == "second"
    assert changes[0]["data"]["version"] == 2
    assert await device.sync() == []
    await client.delete(f"{API}/tasks/{task['id']}", headers=alice.headers)
    assert [(c["entity"], c["id"], c["op"]) for c in await device.sync()] == [
        ("task", task["id"], "delete")
    ]
    restored = await _ok(
        await client.post(f"{API}/tasks/{task['id']}/restore", headers=alice.headers)
    )
    assert device.tasks() == {}
    await device.sync()
    assert device.tasks()[task["id"]]["version"] == restored["version"]


async def test_shared_projects_sections_comments_and_labels_reach_the_right_people(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    alices, bobs = Client(client, alice), Client(client, bob)
    await alices.start()
    await bobs.start()
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/members",
            json={"email": bob.email, "role": "viewer"},
            headers=alice.headers,
        ),
        201,
    )
    section = await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/sections", json={"name": "S"}, headers=alice.headers
        ),
        201,
    )
    task = await _task(client, alice, project_id=project["id"], section_id=section["id"])
    comment = await _ok(
        await client.post(
            f"{API}/tasks/{task['id']}/comments", json={"body": "hi"}, headers=alice.headers
        ),
        201,
    )
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "mine"}, headers=alice.headers), 201
    )
    await alices.sync()
    await bobs.sync()
    expected = {
        ("project", project["id"]),
        ("section", section["id"]),
        ("task", task["id"]),
        ("comment", comment["id"]),
    }
    assert expected <= set(bobs.state)
    assert ("label", label["id"]) not in bobs.state
    assert ("label", label["id"]) in alices.state
    assert bobs.state[("project", project["id"])]["role"] == "viewer"
    # Bob leaves: the project is a tombstone for him (his client drops what was in it).
    bob_id = (await _ok(await client.get(f"{API}/users/me", headers=bob.headers)))["id"]
    await client.delete(f"{API}/projects/{project['id']}/members/{bob_id}", headers=bob.headers)
    changes = await bobs.sync()
    assert {(c["entity"], c["id"], c["op"]) for c in changes} == {
        ("project", project["id"], "delete")
    }
    # Alice sees the membership change, and nothing of Bob's private things.
    await alices.sync()
    assert alices.state[("project", project["id"])]["member_count"] == 1


async def test_a_task_moved_away_is_a_tombstone_for_those_who_lose_it(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    shared = await _ok(
        await client.post(f"{API}/projects", json={"name": "S"}, headers=alice.headers), 201
    )
    private = await _ok(
        await client.post(f"{API}/projects", json={"name": "mine"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{shared['id']}/members",
            json={"email": bob.email, "role": "editor"},
            headers=alice.headers,
        ),
        201,
    )
    parent = await _task(client, alice, project_id=shared["id"])
    child = await _task(client, alice, project_id=shared["id"], parent_id=parent["id"])
    bobs, alices = Client(client, bob), Client(client, alice)
    await bobs.start()
    await alices.start()
    await _ok(
        await client.patch(
            f"{API}/tasks/{parent['id']}", json={"project_id": private["id"]}, headers=alice.headers
        )
    )
    assert {(c["id"], c["op"]) for c in await bobs.sync()} == {
        (parent["id"], "delete"),
        (child["id"], "delete"),
    }
    mine = {(c["id"], c["op"]) for c in await alices.sync() if c["entity"] == "task"}
    assert mine == {(parent["id"], "upsert"), (child["id"], "upsert")}


async def test_paging_through_many_changes_loses_none(
    client: httpx.AsyncClient, alice: Account
) -> None:
    device = Client(client, alice)
    await device.start()
    made = [await _task(client, alice, title=f"t{i}") for i in range(7)]
    await device.sync(limit=2)
    assert set(device.tasks()) == {t["id"] for t in made}


async def test_bad_and_expired_tokens(
    client: httpx.AsyncClient, alice: Account, settings: Settings
) -> None:
    for bad in ("nonsense", "x" * 300, Token(-1, time.time()).encode()[:-2]):
        response = await client.get(SYNC, params={"since": bad}, headers=alice.headers)
        assert response.status_code in (400, 422), response.text
    old = Token(0, time.time() - settings.sync_retention_days * 86_400 - 60).encode()
    assert_problem(
        await client.get(SYNC, params={"since": old}, headers=alice.headers), 410, "sync-expired"
    )


# The property: however writers interleave, a client that only syncs ends with exactly the
# server's state. Writers run concurrently (on PostgreSQL, in concurrent transactions whose
# ids and commits interleave) while the client syncs in between.
Plan = list[list[tuple[str, int]]]
_op = st.tuples(st.sampled_from(["create", "update", "delete", "complete"]), st.integers(0, 7))
_plans = st.lists(st.lists(_op, min_size=1, max_size=8), min_size=2, max_size=4)


@hypothesis_settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=_plans, seed=st.integers(0, 2**16))
async def test_concurrent_writers_never_make_a_sync_skip_a_change(
    client: httpx.AsyncClient, make_account: Callable[..., Any], plan: Plan, seed: int
) -> None:
    account = await make_account(f"w{seed}-{uuid.uuid4().hex[:12]}@example.com")
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=account.headers), 201
    )
    device = Client(client, account)
    await device.start()
    created: list[str] = []

    async def writer(ops: list[tuple[str, int]]) -> None:
        for op, pick in ops:
            if op == "create" or not created:
                task = await _task(client, account, project_id=project["id"], title=f"{op}{pick}")
                created.append(task["id"])
                continue
            task_id = created[pick % len(created)]
            url = f"{API}/tasks/{task_id}"
            if op == "update":
                await client.patch(url, json={"priority": pick % 5}, headers=account.headers)
            elif op == "complete":
                await client.patch(url, json={"status": "done"}, headers=account.headers)
            else:
                await client.delete(url, headers=account.headers)

    async def reader(done: asyncio.Event) -> None:
        while not done.is_set():
            await device.sync(limit=3)
            await asyncio.sleep(0)

    done = asyncio.Event()
    reading = asyncio.create_task(reader(done))
    await asyncio.gather(*(writer(ops) for ops in plan))
    done.set()
    await reading
    await device.sync()
    listed = await _ok(
        await client.get(
            f"{API}/tasks",
            params={"project_id": project["id"], "limit": 200},
            headers=account.headers,
        )
    )
    server = {t["id"]: t["version"] for t in listed["items"]}
    assert {task_id: t["version"] for task_id, t in device.tasks().items()} == server


async def test_a_token_held_over_a_purge_still_sees_the_next_change(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    """Maintenance may purge every row of a quiet feed; on SQLite the next row must still get
    a seq above the tokens given out before (else their next sync skips it)."""
    for i in range(3):
        await _task(client, alice, title=f"old {i}")
    token = (await _ok(await client.get(SYNC, headers=alice.headers)))["token"]
    async with app.state.context.db.transaction() as conn:  # a quiet spell past the retention
        await conn.execute(sa.update(changes).values(at=utcnow() - timedelta(days=400)))
    await app.state.context.sync.purge()
    made = await _task(client, alice, title="new after the quiet")
    body = await _ok(await client.get(SYNC, params={"since": token}, headers=alice.headers))
    assert made["id"] in [c["id"] for c in body["changes"]]


@pytest.mark.parametrize(
    "token",
    [
        Token(2**63 + 5, 0.0),
        Token(1, 0.0, None, 2**63 + 5),
        Token(1, 0.0, (2**63 + 5, 1)),
        Token(-1, 0.0),
    ],
)
async def test_tokens_out_of_the_databases_range_are_refused_not_a_500(
    client: httpx.AsyncClient, alice: Account, token: Token
) -> None:
    fresh = Token(token.low, time.time(), token.after, token.high).encode()
    response = await client.get(SYNC, params={"since": fresh}, headers=alice.headers)
    assert_problem(response, 400, "invalid-cursor")


async def test_a_transaction_in_another_database_does_not_hold_changes_back(
    client: httpx.AsyncClient, alice: Account, database_url: str
) -> None:
    """PostgreSQL's transaction ids are the server's; only this database's transactions can
    write our feed, so another database's long transaction (another application, a backup
    restore, a test run beside this one) must not delay anyone's sync."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's transaction-id watermark")
    other = sa.make_url(database_url).set(database="postgres")
    engine = create_async_engine(other)
    try:
        async with engine.connect() as elsewhere:
            await elsewhere.execute(sa.text("SELECT pg_current_xact_id()"))  # holds an id
            device = Client(client, alice)
            await device.start()
            task = await _task(client, alice, title="not held back")
            changes = await device.sync()
            assert [c["id"] for c in changes] == [task["id"]]
            await elsewhere.rollback()
    finally:
        await engine.dispose()
