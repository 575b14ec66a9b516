"""A task's activity over HTTP: what is recorded, who may read it, newest first, pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.sharing import make_project, make_task, user_id

FIELDS = {"id", "task_id", "actor_id", "action", "changes", "created_at"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The shared test settings with the cheapest password hash: these tests make many users."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


@pytest.fixture
async def carol(make_account: Callable[..., Any]) -> Account:
    account: Account = await make_account("carol@example.com")
    return account


def activity_url(task_id: str) -> str:
    return f"/api/v1/tasks/{task_id}/activity"


def comments_url(task_id: str, comment_id: str | None = None) -> str:
    url = f"/api/v1/tasks/{task_id}/comments"
    return url if comment_id is None else f"{url}/{comment_id}"


async def activity(
    client: httpx.AsyncClient, account: Account, task_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(activity_url(task_id), params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    page: dict[str, Any] = response.json()
    return page


async def post_comment(
    client: httpx.AsyncClient, account: Account, task_id: str, body: str = "Looks good"
) -> str:
    response = await client.post(
        comments_url(task_id), json={"body": body}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_new_task_has_a_created_entry(client: httpx.AsyncClient, alice: Account) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice))

    page = await activity(client, alice, task_id)

    assert page["next_cursor"] is None
    [entry] = page["items"]
    assert set(entry) == FIELDS
    assert uuid.UUID(entry["id"])
    assert entry["task_id"] == task_id
    assert entry["actor_id"] == await user_id(client, alice)
    assert entry["action"] == "created"
    assert isinstance(entry["changes"], dict)
    assert datetime.fromisoformat(entry["created_at"]).tzinfo is not None


async def test_changing_a_task_records_each_field_old_and_new(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice), "Plant roses")

    response = await client.patch(
        f"/api/v1/tasks/{task_id}", json={"title": "Plant tulips"}, headers=alice.headers
    )
    assert response.status_code == 200, response.text

    newest = (await activity(client, alice, task_id))["items"][0]
    assert newest["action"] == "updated"
    assert newest["changes"]["title"] == ["Plant roses", "Plant tulips"]


async def test_comments_are_recorded_newest_first(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice, [(bob, "editor")]))
    comment_id = await post_comment(client, bob, task_id, "frist")
    edited = await client.patch(
        comments_url(task_id, comment_id), json={"body": "first"}, headers=bob.headers
    )
    deleted = await client.delete(comments_url(task_id, comment_id), headers=bob.headers)
    assert (edited.status_code, deleted.status_code) == (200, 204)

    items = (await activity(client, alice, task_id))["items"]

    assert [e["action"] for e in items] == [
        "comment_deleted",
        "comment_edited",
        "commented",
        "created",
    ]
    bob_id = await user_id(client, bob)
    assert [e["actor_id"] for e in items[:3]] == [bob_id] * 3
    assert items[0]["changes"] == {"comment_id": [comment_id, None]}
    assert items[1]["changes"] == {"comment_id": [comment_id, comment_id], "version": [1, 2]}
    assert items[2]["changes"] == {"comment_id": [None, comment_id]}
    # The text of a deleted comment lives on nowhere.
    assert "frist" not in str(items)
    assert "first" not in str(items)
    times = [e["created_at"] for e in items]
    assert times == sorted(times, reverse=True)


async def test_refused_comment_records_nothing(
    client: httpx.AsyncClient, alice: Account, carol: Account
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice, [(carol, "viewer")]))

    refused = await client.post(comments_url(task_id), json={"body": "hi"}, headers=carol.headers)

    assert refused.status_code == 403
    assert [e["action"] for e in (await activity(client, alice, task_id))["items"]] == ["created"]


async def test_viewer_reads_the_activity(
    client: httpx.AsyncClient, alice: Account, carol: Account
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice, [(carol, "viewer")]))

    page = await activity(client, carol, task_id)

    assert page == await activity(client, alice, task_id)
    assert [e["action"] for e in page["items"]] == ["created"]


async def test_non_member_finds_no_task(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice))

    mine = await client.get(activity_url(task_id), headers=bob.headers)
    unknown = await client.get(activity_url(str(uuid.uuid4())), headers=alice.headers)

    assert_problem(mine, 404, "task-not-found")
    assert_problem(unknown, 404, "task-not-found")


async def test_activity_comes_a_page_at_a_time(client: httpx.AsyncClient, alice: Account) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice))
    for n in range(4):
        await post_comment(client, alice, task_id, f"#{n}")
    everything = (await activity(client, alice, task_id))["items"]
    assert len(everything) == 5

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await activity(client, alice, task_id, **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 2

    assert seen == everything
    assert seen[-1]["action"] == "created"


@pytest.mark.parametrize("limit", [0, 10_000])
async def test_limit_out_of_range_is_422(
    client: httpx.AsyncClient, alice: Account, limit: int
) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice))

    response = await client.get(
        activity_url(task_id), params={"limit": limit}, headers=alice.headers
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "limit"


async def test_unreadable_cursor_is_400(client: httpx.AsyncClient, alice: Account) -> None:
    task_id = await make_task(client, alice, await make_project(client, alice))

    response = await client.get(
        activity_url(task_id), params={"cursor": "not-a-cursor"}, headers=alice.headers
    )

    assert_problem(response, 400, "invalid-cursor")
