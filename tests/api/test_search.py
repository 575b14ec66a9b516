"""Search over HTTP: matching, ranking, filters, who sees what, hostile input, pages."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.sharing import PROJECTS, TASKS, make_project, make_task, user_id

SEARCH = "/api/v1/search"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


async def _search(client: httpx.AsyncClient, who: Account, q: str, **params: Any) -> Any:
    response = await client.get(SEARCH, params={"q": q, **params}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _titles(client: httpx.AsyncClient, who: Account, q: str, **params: Any) -> list[str]:
    return [hit["task"]["title"] for hit in (await _search(client, who, q, **params))["items"]]


async def _task(client: httpx.AsyncClient, who: Account, **body: Any) -> dict[str, Any]:
    response = await client.post(TASKS, json=body, headers=who.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def _comment(client: httpx.AsyncClient, who: Account, task_id: str, text: str) -> str:
    response = await client.post(
        f"{TASKS}/{task_id}/comments", json={"body": text}, headers=who.headers
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# Matching and ranking


async def test_a_title_match_ranks_above_a_description_match(
    client: httpx.AsyncClient, alice: Account
) -> None:
    described = await _task(client, alice, title="Misc", description="talk about the budget")
    titled = await _task(client, alice, title="Quarterly budget review")
    await _task(client, alice, title="Unrelated")

    page = await _search(client, alice, "budget")

    assert [hit["task"]["id"] for hit in page["items"]] == [titled["id"], described["id"]]
    first, second = page["items"]
    assert first["rank"] > second["rank"]
    assert first["matched_in"] == ["title"]
    assert second["matched_in"] == ["description"]
    assert page["next_cursor"] is None


async def test_a_hit_carries_the_task_exactly_as_get_returns_it(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await client.post("/api/v1/labels", json={"name": "home"}, headers=alice.headers)
    task = await _task(
        client, alice, title="Paint the fence", priority=2, labels=[label.json()["id"]]
    )
    fetched = await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    [hit] = (await _search(client, alice, "fence"))["items"]

    assert hit["task"] == fetched.json()
    assert isinstance(hit["rank"], float)


async def test_every_word_is_required_and_the_last_also_as_a_prefix(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await _task(client, alice, title="Weekly meeting with design")
    await _task(client, alice, title="Weekly report")
    await _task(client, alice, title="Sync", description="weekly meeting notes")

    assert sorted(await _titles(client, alice, "weekly meet")) == [
        "Sync",
        "Weekly meeting with design",
    ]
    assert await _titles(client, alice, "weekly rep") == ["Weekly report"]
    # Only the last word is a prefix: "meet" before another word must be a whole word.
    assert await _titles(client, alice, "meet notes") == []
    assert await _titles(client, alice, "weekly budget") == []


async def test_search_ignores_case_and_accents(client: httpx.AsyncClient, alice: Account) -> None:
    await _task(client, alice, title="Café opening", description="Crème brûlée tasting")

    assert await _titles(client, alice, "CAFÉ") == ["Café opening"]
    assert await _titles(client, alice, "cafe") == ["Café opening"]
    assert await _titles(client, alice, "creme brulee") == ["Café opening"]


async def test_a_task_is_found_by_any_one_of_its_comments(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="Plan the party")
    await _comment(client, alice, task["id"], "remember the anniversary cake")
    await _comment(client, alice, task["id"], "and balloons")

    [hit] = (await _search(client, alice, "anniversary cake"))["items"]
    assert hit["task"]["id"] == task["id"]
    assert hit["matched_in"] == ["comment"]
    # All the words in one comment: spread over two, they do not match.
    assert await _titles(client, alice, "anniversary balloons") == []
    # Found in the title and in a comment, it says both.
    [both] = (await _search(client, alice, "party"))["items"]
    assert both["matched_in"] == ["title"]
    await _comment(client, alice, task["id"], "party hats")
    [both] = (await _search(client, alice, "party"))["items"]
    assert both["matched_in"] == ["title", "comment"]


async def test_a_deleted_comment_no_longer_finds_its_task(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="Taxes")
    comment_id = await _comment(client, alice, task["id"], "receipt from the locksmith")
    assert await _titles(client, alice, "locksmith") == ["Taxes"]

    deleted = await client.delete(
        f"{TASKS}/{task['id']}/comments/{comment_id}", headers=alice.headers
    )
    assert deleted.status_code == 204, deleted.text

    assert await _titles(client, alice, "locksmith") == []


async def test_an_edited_task_or_comment_is_found_by_its_new_words_only(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="Call the plumber")
    comment_id = await _comment(client, alice, task["id"], "ask about the boiler")
    await client.patch(
        f"{TASKS}/{task['id']}", json={"title": "Call the electrician"}, headers=alice.headers
    )
    await client.patch(
        f"{TASKS}/{task['id']}/comments/{comment_id}",
        json={"body": "ask about the fuse box"},
        headers=alice.headers,
    )

    assert await _titles(client, alice, "plumber") == []
    assert await _titles(client, alice, "boiler") == []
    assert await _titles(client, alice, "electrician") == ["Call the electrician"]
    assert await _titles(client, alice, "fuse") == ["Call the electrician"]


async def test_trashed_tasks_never_appear_and_restored_ones_do_again(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="Renew passport")
    subtask = await _task(client, alice, title="Passport photos", parent_id=task["id"])
    await _comment(client, alice, subtask["id"], "passport office opens at nine")
    assert len(await _titles(client, alice, "passport")) == 2

    assert (await client.delete(f"{TASKS}/{task['id']}", headers=alice.headers)).status_code == 204
    assert await _titles(client, alice, "passport") == []
    assert await _titles(client, alice, "office") == []

    restored = await client.post(f"{TASKS}/{task['id']}/restore", headers=alice.headers)
    assert restored.status_code == 200, restored.text
    assert len(await _titles(client, alice, "passport")) == 2


# Filters


async def test_each_filter_narrows_the_hits_and_they_combine(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await make_project(client, alice, [(bob, "editor")])
    bob_id = await user_id(client, bob)
    alice_id = await user_id(client, alice)
    label = (await client.post("/api/v1/labels", json={"name": "x"}, headers=alice.headers)).json()
    inbox = await _task(client, alice, title="garden inbox", priority=1)
    labelled = await _task(
        client, alice, title="garden labelled", project_id=project, labels=[label["id"]]
    )
    assigned = await _task(
        client, alice, title="garden bob", project_id=project, assignee_id=bob_id, priority=3
    )
    mine = await _task(client, alice, title="garden mine", project_id=project, assignee_id=alice_id)
    done = await _task(client, alice, title="garden done", status="done", priority=3)
    due = await _task(client, alice, title="garden due", due_at="2030-06-15T12:00:00Z")

    async def ids(**params: Any) -> set[str]:
        page = await _search(client, alice, "garden", **params)
        return {hit["task"]["id"] for hit in page["items"]}

    every = {inbox["id"], labelled["id"], assigned["id"], mine["id"], done["id"], due["id"]}
    assert await ids() == every
    assert await ids(project_id=project) == {labelled["id"], assigned["id"], mine["id"]}
    assert await ids(label=label["id"]) == {labelled["id"]}
    assert await ids(assignee_id=bob_id) == {assigned["id"]}
    assert await ids(assignee_id="me") == {mine["id"]}
    assert await ids(status="done") == {done["id"]}
    assert await ids(status=["done", "in_progress"]) == {done["id"]}
    assert await ids(priority=[1, 3]) == {inbox["id"], assigned["id"], done["id"]}
    assert await ids(due_after="2030-06-01T00:00:00Z") == {due["id"]}
    assert await ids(due_before="2030-06-15T12:00:00Z") == set()
    assert await ids(due_after="2030-06-15T12:00:00Z", due_before="2030-07-01T00:00:00Z") == {
        due["id"]
    }
    # Combined: every filter must hold.
    assert await ids(project_id=project, priority=3) == {assigned["id"]}
    assert await ids(project_id=project, priority=3, assignee_id="me") == set()
    assert await ids(status="done", priority=3) == {done["id"]}
    # Bob's view of the same search: the shared project only, and not alice's label.
    bob_page = await _search(client, bob, "garden")
    assert {hit["task"]["id"] for hit in bob_page["items"]} == {
        labelled["id"],
        assigned["id"],
        mine["id"],
    }
    assert await _titles(client, bob, "garden", label=label["id"]) == []


# Access


async def test_other_users_tasks_and_projects_never_appear(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    bobs_project = await make_project(client, bob)
    await make_task(client, bob, bobs_project, "secret orchard plan")
    inbox_task = await _task(client, bob, title="secret orchard inbox")
    await _comment(client, bob, inbox_task["id"], "orchard comment")

    assert await _titles(client, alice, "orchard") == []
    assert await _titles(client, alice, "orchard", project_id=bobs_project) == []
    assert len(await _titles(client, bob, "orchard")) == 2


async def test_a_viewer_finds_a_shared_projects_tasks_until_removed(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await make_project(client, alice, [(bob, "viewer")])
    task_id = await make_task(client, alice, project, "Prune the roses")
    await _comment(client, alice, task_id, "before the frost")

    assert await _titles(client, bob, "roses") == ["Prune the roses"]
    assert await _titles(client, bob, "frost") == ["Prune the roses"]

    bob_id = await user_id(client, bob)
    removed = await client.delete(f"{PROJECTS}/{project}/members/{bob_id}", headers=alice.headers)
    assert removed.status_code == 204, removed.text

    assert await _titles(client, bob, "roses") == []
    assert await _titles(client, bob, "roses", project_id=project) == []


async def test_archived_projects_are_searched_only_when_named_and_trashed_ones_never(
    client: httpx.AsyncClient, alice: Account
) -> None:
    archived = await make_project(client, alice)
    await make_task(client, alice, archived, "Old harvest")
    trashed = await make_project(client, alice)
    await make_task(client, alice, trashed, "Lost harvest")
    response = await client.patch(
        f"{PROJECTS}/{archived}", json={"archived": True}, headers=alice.headers
    )
    assert response.status_code == 200, response.text
    assert (await client.delete(f"{PROJECTS}/{trashed}", headers=alice.headers)).status_code == 204

    assert await _titles(client, alice, "harvest") == []
    assert await _titles(client, alice, "harvest", project_id=archived) == ["Old harvest"]
    assert await _titles(client, alice, "harvest", project_id=trashed) == []


# Hostile and invalid input

HOSTILE = [
    '"',
    "'",
    "''",
    '""',
    "*",
    "garden*",
    "garden:*",
    "garden:",
    "a & b",
    "a | b",
    "!garden",
    "(garden",
    "garden)",
    "()",
    "garden <-> plan",
    "<->",
    "NEAR(garden plan)",
    "garden AND",
    "OR",
    "NOT garden",
    "title:garden",
    "{title}: garden",
    "- garden",
    "+garden",
    "^garden",
    "garden\\",
    "\\",
    "%",
    "_",
    "%_%",
    "'; DROP TABLE tasks; --",
    '" OR 1=1 --',
    "garden:A",
    "garden:*A",
    "\U0001d524\U0001d51e\U0001d52f \U0001f331",  # fraktur letters, an emoji
    "\u0301\u0301",
    "x\u0301",
    "ﬁ",
    "٣٤٥",
    "a" * 200,
    " ".join(["garden"] * 60),
    "\t\n",
]


@pytest.mark.parametrize("q", HOSTILE)
async def test_a_hostile_query_is_text_or_a_422_never_a_server_error(
    client: httpx.AsyncClient, alice: Account, q: str
) -> None:
    await _task(client, alice, title="Garden plan", description="a AND b (title) NEAR")

    response = await client.get(SEARCH, params={"q": q}, headers=alice.headers)

    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:
        body = assert_problem(response, 422, "validation-error")
        assert [e["field"] for e in body["errors"]] == ["q"]


@pytest.mark.parametrize("q", ['"garden"', "garden*", "garden:*", "(garden)", "!garden", "GARDEN&"])
async def test_syntax_around_a_word_is_read_as_text(
    client: httpx.AsyncClient, alice: Account, q: str
) -> None:
    await _task(client, alice, title="Garden plan")

    assert await _titles(client, alice, q) == ["Garden plan"]


async def test_a_lone_surrogate_in_the_query_string_is_no_error(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.get(f"{SEARCH}?q=%ED%A0%80garden", headers=alice.headers)
    assert response.status_code in (200, 422), response.text


@pytest.mark.parametrize(
    ("params", "status", "slug"),
    [
        ({}, 422, "validation-error"),
        ({"q": ""}, 422, "validation-error"),
        ({"q": "***"}, 422, "validation-error"),
        ({"q": "a\x00b"}, 422, "validation-error"),
        ({"q": "a" * 201}, 422, "validation-error"),
        ({"q": "garden", "limit": 0}, 422, "validation-error"),
        ({"q": "garden", "limit": 10**30}, 422, "validation-error"),
        ({"q": "garden", "status": "later"}, 422, "validation-error"),
        ({"q": "garden", "priority": 9}, 422, "validation-error"),
        ({"q": "garden", "assignee_id": "you"}, 422, "validation-error"),
        ({"q": "garden", "due_after": "0"}, 422, "validation-error"),
        ({"q": "garden", "cursor": "not a cursor"}, 400, "invalid-cursor"),
        ({"q": "garden", "cursor": "WyJzZWFyY2giLG51bGwsIngiXQ"}, 400, "invalid-cursor"),
    ],
)
async def test_invalid_queries_are_refused_with_a_problem(
    client: httpx.AsyncClient,
    alice: Account,
    params: dict[str, Any],
    status: int,
    slug: str,
) -> None:
    response = await client.get(SEARCH, params=params, headers=alice.headers)
    assert_problem(response, status, slug)


async def test_search_needs_credentials(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(SEARCH, params={"q": "garden"}), 401, "unauthorized")


# Pages


async def _all_pages(
    client: httpx.AsyncClient, who: Account, q: str, limit: int
) -> list[dict[str, Any]]:
    hits: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        page = await _search(client, who, q, **params)
        assert len(page["items"]) <= limit
        hits += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return hits
    raise AssertionError("the pages never ended")


async def test_pages_cover_every_hit_once_best_first_ties_by_id(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for i in range(4):
        await _task(client, alice, title=f"Harvest apples {i}")
    for i in range(3):
        await _task(client, alice, title=f"Item {i}", description=f"harvest the pears {i}")
    twins = [await _task(client, alice, title="Harvest") for _ in range(3)]

    hits = await _all_pages(client, alice, "harvest", limit=3)

    ids = [hit["task"]["id"] for hit in hits]
    assert len(ids) == len(set(ids)) == 10
    ranks = [hit["rank"] for hit in hits]
    assert ranks == sorted(ranks, reverse=True)
    # Equal ranks come in id order; the identical titles certainly rank the same.
    twin_ids = {t["id"] for t in twins}
    in_order = [hit["task"]["id"] for hit in hits if hit["task"]["id"] in twin_ids]
    assert in_order == sorted(twin_ids)
    assert hits == (await _search(client, alice, "harvest", limit=10))["items"]


async def test_a_cursor_belongs_to_its_query(client: httpx.AsyncClient, alice: Account) -> None:
    for i in range(3):
        await _task(client, alice, title=f"Harvest {i}")
    page = await _search(client, alice, "harvest", limit=1)

    response = await client.get(
        SEARCH,
        params={"q": "harvest", "cursor": page["next_cursor"], "status": "done"},
        headers=alice.headers,
    )
    assert_problem(response, 400, "invalid-cursor")


@pytest.mark.parametrize("settings", [{"search_max_results": 4}], indirect=True)
async def test_the_result_set_is_bounded(client: httpx.AsyncClient, alice: Account) -> None:
    for i in range(6):
        await _task(client, alice, title=f"Harvest {i}")

    assert len(await _all_pages(client, alice, "harvest", limit=3)) == 4


async def test_an_unchanged_page_answers_304(client: httpx.AsyncClient, alice: Account) -> None:
    await _task(client, alice, title="Harvest")
    first = await client.get(SEARCH, params={"q": "harvest"}, headers=alice.headers)

    again = await client.get(
        SEARCH,
        params={"q": "harvest"},
        headers={**alice.headers, "If-None-Match": first.headers["etag"]},
    )

    assert again.status_code == 304


async def test_postgres_also_finds_title_substrings_ranked_last(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    if app.state.context.db.dialect.name != "postgresql":
        pytest.skip("title substrings are PostgreSQL's (pg_trgm)")
    await _task(client, alice, title="Mail ops@example.com about the orchard")
    await _task(client, alice, title="Orchard visit", description="example")

    page = await _search(client, alice, "example")

    assert [hit["task"]["title"] for hit in page["items"]] == [
        "Orchard visit",
        "Mail ops@example.com about the orchard",
    ]
    assert page["items"][1]["matched_in"] == ["title"]
    assert page["items"][1]["rank"] == 0.0
