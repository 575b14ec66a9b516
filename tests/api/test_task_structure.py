"""Subtasks, labels on tasks, assignment and moves: the shape of work inside projects."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

API = "/api/v1"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _task(client: httpx.AsyncClient, who: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "t")
    body: dict[str, Any] = await _ok(
        await client.post(f"{API}/tasks", json=fields, headers=who.headers), 201
    )
    return body


async def test_subtasks_nest_five_levels_and_no_deeper(
    client: httpx.AsyncClient, alice: Account
) -> None:
    chain = [await _task(client, alice, title="level 0")]
    for level in range(1, 6):
        chain.append(await _task(client, alice, title=f"level {level}", parent_id=chain[-1]["id"]))
    body = assert_problem(
        await client.post(
            f"{API}/tasks",
            json={"title": "too deep", "parent_id": chain[-1]["id"]},
            headers=alice.headers,
        ),
        422,
        "validation-error",
    )
    assert body["errors"][0]["field"] == "parent_id"
    # Moving a subtree under another task counts the subtree's own height too.
    other = await _task(client, alice, title="other")
    nested = await _task(client, alice, title="nested", parent_id=other["id"])
    # chain[1] has four levels below it: under a top-level task its last level is the fifth,
    # under a subtask the sixth.
    assert_problem(
        await client.patch(
            f"{API}/tasks/{chain[1]['id']}", json={"parent_id": nested["id"]}, headers=alice.headers
        ),
        422,
        "validation-error",
    )
    children = await _ok(
        await client.get(
            f"{API}/tasks", params={"parent_id": chain[0]["id"]}, headers=alice.headers
        )
    )
    assert [t["id"] for t in children["items"]] == [chain[1]["id"]]


async def test_a_task_cannot_become_its_own_ancestor(
    client: httpx.AsyncClient, alice: Account
) -> None:
    top = await _task(client, alice, title="top")
    mid = await _task(client, alice, title="mid", parent_id=top["id"])
    leaf = await _task(client, alice, title="leaf", parent_id=mid["id"])
    for parent in (top["id"], leaf["id"]):
        assert_problem(
            await client.patch(
                f"{API}/tasks/{top['id']}", json={"parent_id": parent}, headers=alice.headers
            ),
            422,
            "validation-error",
        )
    # Back to the top level, then under another branch: allowed.
    moved = await _ok(
        await client.patch(
            f"{API}/tasks/{leaf['id']}", json={"parent_id": None}, headers=alice.headers
        )
    )
    assert moved["parent_id"] is None


@pytest.mark.parametrize(("children", "child_status"), [("complete", "done"), ("keep", "todo")])
async def test_completing_a_parent_completes_or_keeps_its_subtasks(
    client: httpx.AsyncClient, alice: Account, children: str, child_status: str
) -> None:
    parent = await _task(client, alice, title="parent")
    child = await _task(client, alice, title="child", parent_id=parent["id"])
    grandchild = await _task(client, alice, title="grandchild", parent_id=child["id"])
    await _ok(
        await client.patch(
            f"{API}/tasks/{parent['id']}",
            json={"status": "done", "children": children},
            headers=alice.headers,
        )
    )
    for task in (child, grandchild):
        after = await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers))
        assert after["status"] == child_status
        assert (after["completed_at"] is not None) == (child_status == "done")
    activity = await _ok(
        await client.get(f"{API}/tasks/{child['id']}/activity", headers=alice.headers)
    )
    assert ("completed" in [a["action"] for a in activity["items"]]) == (children == "complete")


async def test_labels_on_a_task_are_each_readers_own(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/members",
            json={"email": bob.email, "role": "editor"},
            headers=alice.headers,
        ),
        201,
    )
    urgent = await _ok(
        await client.post(f"{API}/labels", json={"name": "urgent"}, headers=alice.headers), 201
    )
    bobs = await _ok(
        await client.post(f"{API}/labels", json={"name": "mine"}, headers=bob.headers), 201
    )
    task = await _task(client, alice, project_id=project["id"], labels=[urgent["id"]])
    other = await _task(client, alice, project_id=project["id"])
    assert task["labels"] == [urgent["id"]]
    # Bob sees none of Alice's labels, and adds his own without touching hers.
    seen = await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=bob.headers))
    assert seen["labels"] == []
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"labels": [bobs["id"]]}, headers=bob.headers
        )
    )
    assert (await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers)))[
        "labels"
    ] == [urgent["id"]]
    # Someone else's label id is refused, and filtering by it finds nothing.
    assert_problem(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"labels": [urgent["id"]]}, headers=bob.headers
        ),
        422,
        "validation-error",
    )
    found = await _ok(
        await client.get(f"{API}/tasks", params={"label": urgent["id"]}, headers=bob.headers)
    )
    assert found["items"] == []
    found = await _ok(
        await client.get(f"{API}/tasks", params={"label": urgent["id"]}, headers=alice.headers)
    )
    assert [t["id"] for t in found["items"]] == [task["id"]]
    assert other["id"] not in {t["id"] for t in found["items"]}
    # Deleting the label takes it off the task at once, cached reads included.
    assert (
        await client.delete(f"{API}/labels/{urgent['id']}", headers=alice.headers)
    ).status_code == 204
    assert (await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers)))[
        "labels"
    ] == []


async def test_assignment_and_the_assigned_to_me_filter(
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
    bob_id = (await _ok(await client.get(f"{API}/users/me", headers=bob.headers)))["id"]
    task = await _task(client, alice, project_id=project["id"], assignee_id=bob_id)
    await _task(client, alice, project_id=project["id"])
    mine = await _ok(
        await client.get(f"{API}/tasks", params={"assignee_id": "me"}, headers=bob.headers)
    )
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    assert_problem(
        await client.get(f"{API}/tasks", params={"assignee_id": "someone"}, headers=bob.headers),
        422,
        "validation-error",
    )


async def test_a_moved_task_changes_project_for_every_reader_and_keeps_the_cache_true(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    """Bob's cached list of a shared project must not keep a task Alice moved away."""
    shared = await _ok(
        await client.post(f"{API}/projects", json={"name": "S"}, headers=alice.headers), 201
    )
    private = await _ok(
        await client.post(f"{API}/projects", json={"name": "mine"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{shared['id']}/members",
            json={"email": bob.email, "role": "viewer"},
            headers=alice.headers,
        ),
        201,
    )
    task = await _task(client, alice, project_id=shared["id"])
    before = await _ok(await client.get(f"{API}/tasks", headers=bob.headers))
    assert task["id"] in {t["id"] for t in before["items"]}
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"project_id": private["id"]}, headers=alice.headers
        )
    )
    after = await _ok(await client.get(f"{API}/tasks", headers=bob.headers))
    assert task["id"] not in {t["id"] for t in after["items"]}
    history = await _ok(
        await client.get(f"{API}/tasks/{task['id']}/activity", headers=alice.headers)
    )
    assert history["items"][0]["action"] == "moved"
    assert history["items"][0]["changes"]["project_id"] == [shared["id"], private["id"]]
