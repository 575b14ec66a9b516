"""Comments on a task over HTTP: who may read, post, edit and delete them; versions; pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskwell.comments.models import BODY_MAX
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.sharing import make_project, make_task, set_role, user_id

FIELDS = {"id", "task_id", "author_id", "body", "version", "created_at", "updated_at", "edited"}
JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The shared test settings with the cheapest password hash: these tests make many users."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


@pytest.fixture
async def carol(make_account: Callable[..., Any]) -> Account:
    account: Account = await make_account("carol@example.com")
    return account


@pytest.fixture
async def eve(make_account: Callable[..., Any]) -> Account:
    """Not a member of anything of alice's."""
    account: Account = await make_account("eve@example.com")
    return account


def comments_url(task_id: str, comment_id: str | None = None) -> str:
    url = f"/api/v1/tasks/{task_id}/comments"
    return url if comment_id is None else f"{url}/{comment_id}"


async def shared_task(
    client: httpx.AsyncClient, owner: Account, *members: tuple[Account, str]
) -> str:
    return await make_task(client, owner, await make_project(client, owner, members))


async def post_comment(
    client: httpx.AsyncClient, account: Account, task_id: str, body: str = "Looks good"
) -> dict[str, Any]:
    response = await client.post(
        comments_url(task_id), json={"body": body}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    comment: dict[str, Any] = response.json()
    return comment


async def list_comments(
    client: httpx.AsyncClient, account: Account, task_id: str, **params: Any
) -> dict[str, Any]:
    response = await client.get(comments_url(task_id), params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


# --- posting and reading ------------------------------------------------------------------


async def test_editor_posts_a_comment_with_every_field(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task_id = await shared_task(client, alice, (bob, "editor"))

    response = await client.post(
        comments_url(task_id), json={"body": "Done *today*?"}, headers=bob.headers
    )

    assert response.status_code == 201, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["etag"] == '"v1"'
    comment = response.json()
    assert set(comment) == FIELDS
    assert uuid.UUID(comment["id"])
    assert comment["task_id"] == task_id
    assert comment["author_id"] == await user_id(client, bob)
    assert comment["body"] == "Done *today*?"
    assert comment["version"] == 1
    assert datetime.fromisoformat(comment["created_at"]).tzinfo is not None
    assert comment["updated_at"] == comment["created_at"]
    assert comment["edited"] is False


async def test_every_member_reads_the_comments_the_viewer_included(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account
) -> None:
    task_id = await shared_task(client, alice, (bob, "editor"), (carol, "viewer"))
    posted = await post_comment(client, bob, task_id)

    for account in (alice, bob, carol):
        page = await list_comments(client, account, task_id)
        assert page == {"items": [posted], "next_cursor": None}


async def test_viewer_cannot_post(
    client: httpx.AsyncClient, alice: Account, carol: Account
) -> None:
    task_id = await shared_task(client, alice, (carol, "viewer"))

    response = await client.post(
        comments_url(task_id), json={"body": "Me too"}, headers=carol.headers
    )

    assert_problem(response, 403, "insufficient-role")
    assert (await list_comments(client, alice, task_id))["items"] == []


async def test_owner_posts_on_a_task_of_their_own_project(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)

    comment = await post_comment(client, alice, task_id, "Note to self")

    assert comment["author_id"] == await user_id(client, alice)


async def test_non_member_finds_no_task(
    client: httpx.AsyncClient, alice: Account, eve: Account
) -> None:
    task_id = await shared_task(client, alice)
    comment = await post_comment(client, alice, task_id)
    url = comments_url(task_id, comment["id"])

    answers = [
        await client.get(comments_url(task_id), headers=eve.headers),
        await client.post(comments_url(task_id), json={"body": "hi"}, headers=eve.headers),
        await client.patch(url, json={"body": "mine"}, headers=eve.headers),
        await client.delete(url, headers=eve.headers),
    ]

    for response in answers:
        assert_problem(response, 404, "task-not-found")
    assert (await list_comments(client, alice, task_id))["items"] == [comment]


async def test_unknown_task_is_not_found(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get(comments_url(str(uuid.uuid4())), headers=alice.headers)

    assert_problem(response, 404, "task-not-found")


async def test_task_in_the_trash_has_no_comments_to_read(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    await post_comment(client, alice, task_id)
    deleted = await client.delete(f"/api/v1/tasks/{task_id}", headers=alice.headers)
    assert deleted.status_code == 204, deleted.text

    response = await client.get(comments_url(task_id), headers=alice.headers)

    assert_problem(response, 404, "task-not-found")


async def test_api_key_without_write_scope_cannot_post(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    created = await client.post(
        "/api/v1/api-keys", json={"name": "reader", "scopes": ["tasks:read"]}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}

    listed = await client.get(comments_url(task_id), headers=key)
    posted = await client.post(comments_url(task_id), json={"body": "hi"}, headers=key)

    assert listed.status_code == 200, listed.text
    assert_problem(posted, 403, "insufficient-scope")


# --- editing and deleting -----------------------------------------------------------------


async def test_author_edits_own_comment(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task_id = await shared_task(client, alice, (bob, "editor"))
    posted = await post_comment(client, bob, task_id, "frist")

    response = await client.patch(
        comments_url(task_id, posted["id"]), json={"body": "first"}, headers=bob.headers
    )

    assert response.status_code == 200, response.text
    assert response.headers["etag"] == '"v2"'
    edited = response.json()
    assert edited["body"] == "first"
    assert edited["version"] == 2
    assert edited["edited"] is True
    assert edited["created_at"] == posted["created_at"]
    assert edited["updated_at"] > posted["updated_at"]
    assert (await list_comments(client, alice, task_id))["items"] == [edited]


async def test_author_deletes_own_comment(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task_id = await shared_task(client, alice, (bob, "editor"))
    posted = await post_comment(client, bob, task_id)

    response = await client.delete(comments_url(task_id, posted["id"]), headers=bob.headers)
    again = await client.delete(comments_url(task_id, posted["id"]), headers=bob.headers)

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(again, 404, "comment-not-found")
    assert (await list_comments(client, alice, task_id))["items"] == []


@pytest.mark.parametrize("who", ["owner", "other editor"])
async def test_only_the_author_changes_a_comment(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account, who: str
) -> None:
    task_id = await shared_task(client, alice, (bob, "editor"), (carol, "editor"))
    posted = await post_comment(client, bob, task_id, "Bob's words")
    other = alice if who == "owner" else carol
    url = comments_url(task_id, posted["id"])

    edit = await client.patch(url, json={"body": "Not Bob's"}, headers=other.headers)
    delete = await client.delete(url, headers=other.headers)

    assert_problem(edit, 403, "not-comment-author")
    assert_problem(delete, 403, "not-comment-author")
    assert (await list_comments(client, alice, task_id))["items"] == [posted]


async def test_author_demoted_to_viewer_can_no_longer_change_their_comment(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project_id = await make_project(client, alice, [(bob, "editor")])
    task_id = await make_task(client, alice, project_id)
    posted = await post_comment(client, bob, task_id)
    await set_role(app, project_id, bob, "viewer")
    url = comments_url(task_id, posted["id"])

    edit = await client.patch(url, json={"body": "changed"}, headers=bob.headers)
    delete = await client.delete(url, headers=bob.headers)

    assert_problem(edit, 403, "insufficient-role")
    assert_problem(delete, 403, "insufficient-role")


async def test_comment_of_another_task_is_not_found(
    client: httpx.AsyncClient, alice: Account
) -> None:
    project_id = await make_project(client, alice)
    task_a = await make_task(client, alice, project_id, "A")
    task_b = await make_task(client, alice, project_id, "B")
    on_a = await post_comment(client, alice, task_a)

    answers = [
        await client.patch(
            comments_url(task_b, on_a["id"]), json={"body": "x"}, headers=alice.headers
        ),
        await client.delete(comments_url(task_b, on_a["id"]), headers=alice.headers),
        await client.delete(comments_url(task_a, str(uuid.uuid4())), headers=alice.headers),
    ]

    for response in answers:
        assert_problem(response, 404, "comment-not-found")
    assert (await list_comments(client, alice, task_a))["items"] == [on_a]


# --- versions -----------------------------------------------------------------------------


async def test_if_match_with_the_current_version_is_applied(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    posted = await post_comment(client, alice, task_id)
    url = comments_url(task_id, posted["id"])

    edited = await client.patch(
        url, json={"body": "v2"}, headers={**alice.headers, "If-Match": '"v1"'}
    )
    deleted = await client.delete(url, headers={**alice.headers, "If-Match": '"v2"'})

    assert edited.status_code == 200, edited.text
    assert deleted.status_code == 204, deleted.text


@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
@pytest.mark.parametrize("if_match", ['"v7"', 'W/"v1"', "v1", '"v1" junk'])
async def test_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, alice: Account, method: str, if_match: str
) -> None:
    task_id = await shared_task(client, alice)
    posted = await post_comment(client, alice, task_id, "original")
    response = await client.request(
        method,
        comments_url(task_id, posted["id"]),
        json={"body": "changed"} if method == "PATCH" else None,
        headers={**alice.headers, "If-Match": if_match},
    )

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 1
    assert response.headers["etag"] == '"v1"'
    assert (await list_comments(client, alice, task_id))["items"] == [posted]


# --- pages --------------------------------------------------------------------------------


async def test_comments_come_oldest_first_a_page_at_a_time(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    posted = [(await post_comment(client, alice, task_id, f"#{n}"))["id"] for n in range(5)]

    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = await list_comments(client, alice, task_id, **params)
        assert set(page) == {"items", "next_cursor"}
        seen += [comment["id"] for comment in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(page["items"]) == 2

    assert seen == posted
    assert pages == 3


async def test_unchanged_page_answers_304(client: httpx.AsyncClient, alice: Account) -> None:
    task_id = await shared_task(client, alice)
    await post_comment(client, alice, task_id)
    first = await client.get(comments_url(task_id), headers=alice.headers)

    again = await client.get(
        comments_url(task_id), headers={**alice.headers, "If-None-Match": first.headers["etag"]}
    )

    assert again.status_code == 304
    assert again.headers["etag"] == first.headers["etag"]


@pytest.mark.parametrize("limit", [0, -1, 10_000])
async def test_limit_out_of_range_is_422(
    client: httpx.AsyncClient, alice: Account, limit: int
) -> None:
    task_id = await shared_task(client, alice)

    response = await client.get(
        comments_url(task_id), params={"limit": limit}, headers=alice.headers
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("cursor", ["not-a-cursor", "W1siY3JlYXRlZF9hdCJdXQ"])
async def test_unreadable_cursor_is_400(
    client: httpx.AsyncClient, alice: Account, cursor: str
) -> None:
    task_id = await shared_task(client, alice)

    response = await client.get(
        comments_url(task_id), params={"cursor": cursor}, headers=alice.headers
    )

    assert_problem(response, 400, "invalid-cursor")


async def test_cursor_of_the_activity_list_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    for n in range(2):
        await post_comment(client, alice, task_id, f"#{n}")
    activity = await client.get(
        f"/api/v1/tasks/{task_id}/activity", params={"limit": 1}, headers=alice.headers
    )
    cursor = activity.json()["next_cursor"]
    assert cursor

    response = await client.get(
        comments_url(task_id), params={"cursor": cursor}, headers=alice.headers
    )

    assert_problem(response, 400, "invalid-cursor")


# --- the text -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"body": ""},
        {"body": " \t\n "},
        {"body": "x" * (BODY_MAX + 1)},
        {"body": "nul \x00 inside"},
        {"body": None},
        {"body": 42},
        {},
        {"body": "fine", "author_id": str(uuid.uuid4())},
    ],
    ids=["empty", "whitespace", "too-long", "nul", "null", "number", "missing", "unknown-field"],
)
@pytest.mark.parametrize("method", ["POST", "PATCH"])
async def test_invalid_body_is_422(
    client: httpx.AsyncClient, alice: Account, payload: dict[str, Any], method: str
) -> None:
    task_id = await shared_task(client, alice)
    posted = await post_comment(client, alice, task_id, "original")
    url = comments_url(task_id) if method == "POST" else comments_url(task_id, posted["id"])

    response = await client.request(method, url, json=payload, headers=alice.headers)

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"]
    assert (await list_comments(client, alice, task_id))["items"] == [posted]


async def test_lone_surrogate_is_422(client: httpx.AsyncClient, alice: Account) -> None:
    task_id = await shared_task(client, alice)

    response = await client.post(
        comments_url(task_id),
        content=b'{"body": "half a pair \\ud800"}',
        headers={**alice.headers, **JSON},
    )

    assert_problem(response, 422, "validation-error")


async def test_longest_body_and_any_script_are_kept_exactly(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task_id = await shared_task(client, alice)
    longest = "é" * BODY_MAX
    markdown = "# Plan\n\n- [ ] 种花 🌹\n- [x] `code`\n\n> quoted  \n"

    kept = [
        (await post_comment(client, alice, task_id, text))["body"] for text in (longest, markdown)
    ]

    assert kept == [longest, markdown]
    assert [c["body"] for c in (await list_comments(client, alice, task_id))["items"]] == kept
