"""POST /tasks/bulk: one action on up to 500 tasks, all or nothing, a result per item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

API = "/api/v1"
BULK = f"{API}/tasks/bulk"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _tasks(
    client: httpx.AsyncClient, who: Account, n: int, **fields: Any
) -> list[dict[str, Any]]:
    made = []
    for i in range(n):
        made.append(
            await _ok(
                await client.post(
                    f"{API}/tasks", json={"title": f"t{i}", **fields}, headers=who.headers
                ),
                201,
            )
        )
    return made


async def _get(client: httpx.AsyncClient, who: Account, task_id: str) -> httpx.Response:
    return await client.get(f"{API}/tasks/{task_id}", headers=who.headers)


async def test_complete_move_label_and_delete_many(
    client: httpx.AsyncClient, alice: Account
) -> None:
    tasks = await _tasks(client, alice, 4)
    items = [{"id": t["id"]} for t in tasks]
    done = await _ok(
        await client.post(BULK, json={"action": "complete", "items": items}, headers=alice.headers)
    )
    assert done["applied"] is True
    assert [r["status"] for r in done["results"]] == [200] * 4
    assert all([(await _get(client, alice, t["id"])).json()["status"] == "done" for t in tasks])

    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=alice.headers), 201
    )
    section = await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/sections", json={"name": "S"}, headers=alice.headers
        ),
        201,
    )
    body = {
        "action": "move",
        "items": items,
        "project_id": project["id"],
        "section_id": section["id"],
    }
    await _ok(await client.post(BULK, json=body, headers=alice.headers))
    moved = [(await _get(client, alice, t["id"])).json() for t in tasks]
    assert {(m["project_id"], m["section_id"]) for m in moved} == {(project["id"], section["id"])}

    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "x"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            BULK,
            json={"action": "label", "items": items, "add_labels": [label["id"]]},
            headers=alice.headers,
        )
    )
    assert all(
        [(await _get(client, alice, t["id"])).json()["labels"] == [label["id"]] for t in tasks]
    )
    await _ok(
        await client.post(
            BULK,
            json={"action": "label", "items": items[:2], "remove_labels": [label["id"]]},
            headers=alice.headers,
        )
    )
    assert [(await _get(client, alice, t["id"])).json()["labels"] for t in tasks] == [
        [],
        [],
        [label["id"]],
        [label["id"]],
    ]

    gone = await _ok(
        await client.post(BULK, json={"action": "delete", "items": items}, headers=alice.headers)
    )
    assert [r["status"] for r in gone["results"]] == [204] * 4
    assert all([(await _get(client, alice, t["id"])).status_code == 404 for t in tasks])
    trash = await _ok(await client.get(f"{API}/trash", headers=alice.headers))
    assert {t["id"] for t in trash["tasks"]} == {t["id"] for t in tasks}


async def test_one_failing_item_undoes_the_whole_change(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    mine = await _tasks(client, alice, 3)
    [foreign] = await _tasks(client, bob, 1)
    # A stale version, a task of someone else, and a duplicate: nothing is done at all.
    await _ok(
        await client.patch(
            f"{API}/tasks/{mine[1]['id']}", json={"title": "changed"}, headers=alice.headers
        )
    )
    items = [
        {"id": mine[0]["id"]},
        {"id": mine[1]["id"], "version": 1},
        {"id": foreign["id"]},
        {"id": mine[0]["id"]},
        {"id": mine[2]["id"]},
    ]
    response = await client.post(
        BULK, json={"action": "complete", "items": items}, headers=alice.headers
    )
    body = assert_problem(response, 409, "bulk-failed")
    assert body["applied"] is False
    statuses = [(r["status"], r.get("type", "").rsplit(":", 1)[-1]) for r in body["results"]]
    assert statuses == [
        (200, ""),
        (412, "version-mismatch"),
        (404, "task-not-found"),
        (422, "duplicate-item"),
        (200, ""),
    ]
    assert body["results"][1]["current_version"] == 2
    for task in mine:
        assert (await _get(client, alice, task["id"])).json()["status"] == "todo"
    assert (await _get(client, bob, foreign["id"])).json()["status"] == "todo"


async def test_a_viewer_cannot_bulk_change_a_shared_project(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
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
    tasks = await _tasks(client, alice, 2, project_id=project["id"])
    response = await client.post(
        BULK,
        json={"action": "delete", "items": [{"id": t["id"]} for t in tasks]},
        headers=bob.headers,
    )
    body = assert_problem(response, 409, "bulk-failed")
    assert {r["type"].rsplit(":", 1)[-1] for r in body["results"]} == {"insufficient-role"}
    assert all([(await _get(client, alice, t["id"])).status_code == 200 for t in tasks])


@pytest.mark.parametrize(
    "body",
    [
        {"action": "complete", "items": []},
        {"action": "complete", "items": [{"id": "00000000-0000-0000-0000-000000000001"}] * 501},
        {"action": "explode", "items": [{"id": "00000000-0000-0000-0000-000000000001"}]},
        {"action": "move", "items": [{"id": "00000000-0000-0000-0000-000000000001"}]},
        {"action": "label", "items": [{"id": "00000000-0000-0000-0000-000000000001"}]},
        {
            "action": "complete",
            "items": [{"id": "00000000-0000-0000-0000-000000000001"}],
            "project_id": "00000000-0000-0000-0000-000000000001",
        },
        {"action": "complete", "items": [{"id": "not-a-uuid"}]},
        {
            "action": "complete",
            "items": [{"id": "00000000-0000-0000-0000-000000000001", "version": "1"}],
        },
    ],
)
async def test_bad_bulk_bodies_are_422(
    client: httpx.AsyncClient, alice: Account, body: dict[str, Any]
) -> None:
    assert_problem(
        await client.post(BULK, json=body, headers=alice.headers), 422, "validation-error"
    )


async def test_five_hundred_tasks_in_one_request(
    client: httpx.AsyncClient, alice: Account, app: Any
) -> None:
    ctx = app.state.context
    import uuid as _uuid

    from taskwell.db.types import utcnow
    from taskwell.tasks.models import tasks as tasks_table

    inbox = (await _ok(await client.get(f"{API}/projects", headers=alice.headers)))["items"][0][
        "id"
    ]
    me = (await _ok(await client.get(f"{API}/users/me", headers=alice.headers)))["id"]
    now = utcnow()
    rows = [
        {
            "id": _uuid.uuid4(),
            "project_id": _uuid.UUID(inbox),
            "title": f"bulk {i}",
            "position": float(i),
            "created_by": _uuid.UUID(me),
            "created_at": now,
            "updated_at": now,
        }
        for i in range(500)
    ]
    async with ctx.db.transaction() as conn:
        await conn.execute(tasks_table.insert(), rows)
    items = [{"id": str(r["id"])} for r in rows]
    done = await _ok(
        await client.post(BULK, json={"action": "complete", "items": items}, headers=alice.headers)
    )
    assert len(done["results"]) == 500
    listed = await _ok(
        await client.get(f"{API}/tasks", params={"status": "todo"}, headers=alice.headers)
    )
    assert listed["items"] == []
