"""One task over HTTP: its fields and rules, bad input, ownership, entity tags, idempotent POST."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

TASKS = "/api/v1/tasks"
FIELDS = {
    "id",
    "project_id",
    "section_id",
    "parent_id",
    "assignee_id",
    "created_by",
    "labels",
    "due_date",
    "due_timezone",
    "start_date",
    "recurrence",
    "next_occurrence_id",
    "title",
    "description",
    "status",
    "priority",
    "due_at",
    "completed_at",
    "position",
    "version",
    "created_at",
    "updated_at",
}
JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The shared test settings with the cheapest password hash: these tests make many users."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


def task_url(task_id: str) -> str:
    return f"{TASKS}/{task_id}"


def instant(value: str) -> datetime:
    return datetime.fromisoformat(value)


def problem_identity(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    return body["type"], body["title"], body["detail"], body["status"]


async def create_task(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "Water the plants")
    response = await client.post(TASKS, json=fields, headers=account.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def read_task(client: httpx.AsyncClient, account: Account, task_id: str) -> dict[str, Any]:
    response = await client.get(task_url(task_id), headers=account.headers)
    assert response.status_code == 200, response.text
    task: dict[str, Any] = response.json()
    return task


async def list_tasks(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get(TASKS, headers=account.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


# --- creating, reading, changing, deleting ------------------------------------------------


async def test_created_task_has_every_field_with_defaults(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(TASKS, json={"title": "Buy milk"}, headers=alice.headers)

    assert response.status_code == 201, response.text
    task = response.json()
    assert set(task) == FIELDS
    assert uuid.UUID(task["id"])
    assert task["title"] == "Buy milk"
    assert task["description"] == ""
    assert task["status"] == "todo"
    assert task["priority"] == 0
    assert task["due_at"] is None
    assert task["completed_at"] is None
    assert isinstance(task["position"], float)
    assert task["version"] == 1
    assert instant(task["created_at"]).tzinfo is not None
    assert task["created_at"] == task["updated_at"]
    assert response.headers["etag"] == '"v1"'
    assert response.headers["location"].endswith(task_url(task["id"]))


async def test_read_task_is_the_created_representation(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create_task(
        client, alice, title="Plan", description="Q3", priority=3, due_at="2031-05-01T09:30:00Z"
    )

    response = await client.get(task_url(created["id"]), headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == '"v1"'


async def test_created_task_keeps_every_field_sent(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(
        client,
        alice,
        title="File taxes",
        description="Receipts are in the blue folder",
        status="in_progress",
        priority=4,
        due_at="2031-04-15T23:59:00+02:00",
        position=12.5,
    )

    assert task["description"] == "Receipts are in the blue folder"
    assert task["status"] == "in_progress"
    assert task["priority"] == 4
    assert instant(task["due_at"]) == datetime(2031, 4, 15, 21, 59, tzinfo=UTC)
    assert task["position"] == 12.5
    assert task["completed_at"] is None


async def test_task_created_done_has_completed_at(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice, status="done")

    assert task["completed_at"] is not None
    assert instant(task["completed_at"]) == instant(task["created_at"])


async def test_title_of_500_and_description_of_20000_characters_are_accepted(
    client: httpx.AsyncClient, alice: Account
) -> None:
    title, description = "é" * 500, "ü" * 20_000

    task = await create_task(client, alice, title=title, description=description)

    stored = await read_task(client, alice, task["id"])
    assert (stored["title"], stored["description"]) == (title, description)


async def test_default_position_appends_after_the_owners_last_task(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    first = await create_task(client, alice)
    second = await create_task(client, alice)
    placed = await create_task(client, alice, position=5_000.0)
    await create_task(client, bob, position=1e12)

    after = await create_task(client, alice)

    assert first["position"] < second["position"] < placed["position"] < after["position"]
    assert after["position"] < 1e12


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    client: httpx.AsyncClient, alice: Account
) -> None:
    before = await create_task(client, alice, title="Draft", description="keep me", priority=2)

    response = await client.patch(
        task_url(before["id"]), json={"title": "Final"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    after = response.json()
    assert after["title"] == "Final"
    assert after["version"] == 2
    assert response.headers["etag"] == '"v2"'
    assert instant(after["updated_at"]) > instant(before["updated_at"])
    unchanged = FIELDS - {"title", "version", "updated_at"}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
    assert await read_task(client, alice, before["id"]) == after


async def test_every_change_increments_the_version_by_one(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    changes: list[dict[str, Any]] = [
        {"title": "Renamed"},
        {"description": "More words"},
        {"status": "in_progress"},
        {"priority": 4},
        {"due_at": "2032-01-01T00:00:00Z"},
        {"due_at": None},
        {"position": -3.25},
        {"title": "Both", "priority": 1},
    ]

    for expected_version, change in enumerate(changes, start=2):
        response = await client.patch(task_url(task["id"]), json=change, headers=alice.headers)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == expected_version
        for name, value in change.items():
            got = response.json()[name]
            assert got == value or instant(got) == instant(value)


async def test_empty_patch_changes_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    task = await create_task(client, alice)

    response = await client.patch(task_url(task["id"]), json={}, headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == task
    assert response.headers["etag"] == '"v1"'


async def test_completed_at_is_set_on_done_kept_while_done_and_cleared_on_leaving(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    url = task_url(task["id"])

    async def patch(change: dict[str, Any]) -> dict[str, Any]:
        response = await client.patch(url, json=change, headers=alice.headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    assert (await patch({"status": "in_progress"}))["completed_at"] is None
    done = await patch({"status": "done"})
    assert done["completed_at"] is not None
    assert instant(done["completed_at"]) == instant(done["updated_at"])
    assert (await patch({"status": "done"}))["completed_at"] == done["completed_at"]
    assert (await patch({"title": "Still done"}))["completed_at"] == done["completed_at"]
    assert (await patch({"status": "todo"}))["completed_at"] is None
    redone = await patch({"status": "done"})
    assert instant(redone["completed_at"]) > instant(done["completed_at"])
    assert (await read_task(client, alice, task["id"]))["completed_at"] == redone["completed_at"]


async def test_deleted_task_is_gone(client: httpx.AsyncClient, alice: Account) -> None:
    task = await create_task(client, alice)

    response = await client.delete(task_url(task["id"]), headers=alice.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(
        await client.get(task_url(task["id"]), headers=alice.headers), 404, "task-not-found"
    )
    assert_problem(
        await client.delete(task_url(task["id"]), headers=alice.headers), 404, "task-not-found"
    )
    assert await list_tasks(client, alice) == []


# --- bad input: a 4xx problem, never a 500, and the stored task untouched -------------------

TOO_FAR = "9999-12-31T23:59:59-05:00"  # valid ISO 8601, but past the last representable UTC instant

# (label, request body, status, problem slug, field named in `errors` or None)
BAD_BODIES: list[tuple[str, Any, int, str, str | None]] = [
    ("truncated JSON", b'{"title": "x"', 400, "malformed-body", None),
    ("not JSON at all", b"title=x", 400, "malformed-body", None),
    ("JSON array", [{"title": "x"}], 422, "validation-error", None),
    ("JSON string", "a title", 422, "validation-error", None),
    ("title is a number", {"title": 42}, 422, "validation-error", "title"),
    ("title is a list", {"title": ["a"]}, 422, "validation-error", "title"),
    ("title is empty", {"title": ""}, 422, "validation-error", "title"),
    ("title is whitespace", {"title": " \t\n "}, 422, "validation-error", "title"),
    ("title too long", {"title": "x" * 501}, 422, "validation-error", "title"),
    ("title has NUL", {"title": "a\x00b"}, 422, "validation-error", "title"),
    ("description too long", {"description": "x" * 20_001}, 422, "validation-error", "description"),
    ("description has NUL", {"description": "\x00"}, 422, "validation-error", "description"),
    ("unknown status", {"status": "archived"}, 422, "validation-error", "status"),
    ("priority too high", {"priority": 5}, 422, "validation-error", "priority"),
    ("priority negative", {"priority": -1}, 422, "validation-error", "priority"),
    ("priority is a word", {"priority": "high"}, 422, "validation-error", "priority"),
    ("priority is fractional", {"priority": 1.5}, 422, "validation-error", "priority"),
    ("priority is huge", {"priority": 10**30}, 422, "validation-error", "priority"),
    ("naive due_at", {"due_at": "2031-01-01T10:00:00"}, 422, "validation-error", "due_at"),
    ("due_at is a word", {"due_at": "tomorrow"}, 422, "validation-error", "due_at"),
    ("due_at out of range", {"due_at": TOO_FAR}, 422, "validation-error", "due_at"),
    ("position is a word", {"position": "top"}, 422, "validation-error", "position"),
    ("position is huge", {"position": 1e300}, 422, "validation-error", "position"),
    ("unknown field", {"colour": "red"}, 422, "validation-error", "colour"),
    ("read-only field", {"version": 7}, 422, "validation-error", "version"),
]
# Lone surrogates are valid JSON escapes but not Unicode text: nothing can store them.
LONE_SURROGATE: list[tuple[str, Any, int, str, str | None]] = [
    ("title lone surrogate", b'{"title": "a\\ud800b"}', 422, "validation-error", "title"),
    (
        "description lone surrogate",
        b'{"description": "\\udfff"}',
        422,
        "validation-error",
        "description",
    ),
]


def _send(account: Account, body: Any, *, as_create: bool) -> dict[str, Any]:
    """Request arguments for `body`; for a create, a valid title goes along with the bad field."""
    if isinstance(body, bytes):
        if as_create and body.startswith(b'{"description"'):
            body = b'{"title": "t", ' + body[1:]
        return {"content": body, "headers": {**account.headers, **JSON}}
    if as_create and isinstance(body, dict):
        body = {"title": "A valid title", **body}
    return {"json": body, "headers": account.headers}


def _check(response: httpx.Response, status: int, slug: str, field: str | None) -> None:
    problem = assert_problem(response, status, slug)
    if field is not None:
        assert [error["field"] for error in problem["errors"]] == [field], problem


@pytest.mark.parametrize(
    ("body", "status", "slug", "field"),
    [case[1:] for case in BAD_BODIES + LONE_SURROGATE],
    ids=[case[0] for case in BAD_BODIES + LONE_SURROGATE],
)
async def test_bad_body_is_a_problem_and_changes_no_stored_data(
    client: httpx.AsyncClient, alice: Account, body: Any, status: int, slug: str, field: str | None
) -> None:
    task = await create_task(client, alice, description="original", due_at="2031-01-01T00:00:00Z")

    created = await client.post(TASKS, **_send(alice, body, as_create=True))
    patched = await client.patch(task_url(task["id"]), **_send(alice, body, as_create=False))

    _check(created, status, slug, field)
    _check(patched, status, slug, field)
    assert await list_tasks(client, alice) == [task]


async def test_null_for_a_required_field_in_patch_is_422_per_field(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice, due_at="2031-01-01T00:00:00Z")
    required = ["title", "description", "status", "priority", "position"]

    for name in required:
        response = await client.patch(
            task_url(task["id"]), json={name: None}, headers=alice.headers
        )
        problem = assert_problem(response, 422, "validation-error")
        assert [error["field"] for error in problem["errors"]] == [name]
    every_null = await client.patch(
        task_url(task["id"]), json=dict.fromkeys(required), headers=alice.headers
    )

    problem = assert_problem(every_null, 422, "validation-error")
    assert sorted(error["field"] for error in problem["errors"]) == sorted(required)
    assert await read_task(client, alice, task["id"]) == task


async def test_null_due_at_in_patch_clears_it(client: httpx.AsyncClient, alice: Account) -> None:
    task = await create_task(client, alice, due_at="2031-01-01T00:00:00Z")

    response = await client.patch(
        task_url(task["id"]), json={"due_at": None}, headers=alice.headers
    )

    assert response.status_code == 200
    assert response.json()["due_at"] is None
    assert response.json()["version"] == 2


async def test_every_invalid_and_unknown_field_gets_its_own_error(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = {"title": 5, "priority": 9, "due_at": "soon", "colour": "red", "owner_id": "x"}

    response = await client.post(TASKS, json=body, headers=alice.headers)

    problem = assert_problem(response, 422, "validation-error")
    fields = sorted(error["field"] for error in problem["errors"])
    assert fields == ["colour", "due_at", "owner_id", "priority", "title"]
    assert all(error["in"] == "body" for error in problem["errors"])


async def test_missing_title_is_a_422(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(TASKS, json={"description": "no title"}, headers=alice.headers)

    problem = assert_problem(response, 422, "validation-error")
    assert [error["field"] for error in problem["errors"]] == ["title"]


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_invalid_task_id_in_path_is_a_422(
    client: httpx.AsyncClient, alice: Account, method: str
) -> None:
    kwargs: dict[str, Any] = {"json": {"title": "x"}} if method == "PATCH" else {}

    for bad_id in ["not-a-uuid", "123", "0" * 33, "%00"]:
        response = await client.request(method, task_url(bad_id), headers=alice.headers, **kwargs)

        problem = assert_problem(response, 422, "validation-error")
        assert problem["errors"][0] == {
            "field": "task_id",
            "in": "path",
            "message": problem["errors"][0]["message"],
            "code": "uuid_parsing",
        }


async def test_tasks_need_authentication(client: httpx.AsyncClient, alice: Account) -> None:
    task = await create_task(client, alice)

    assert_problem(await client.get(TASKS), 401, "unauthorized")
    assert_problem(await client.post(TASKS, json={"title": "x"}), 401, "unauthorized")
    assert_problem(await client.get(task_url(task["id"])), 401, "unauthorized")
    assert_problem(await client.patch(task_url(task["id"]), json={}), 401, "unauthorized")
    assert_problem(await client.delete(task_url(task["id"])), 401, "unauthorized")
    assert await read_task(client, alice, task["id"]) == task


# --- ownership -----------------------------------------------------------------------------


async def test_other_users_task_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    task = await create_task(client, alice)
    theirs, missing = task_url(task["id"]), task_url(str(uuid.uuid4()))
    v1 = {"If-Match": '"v1"'}
    attempts: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("GET", {}, {}),
        ("GET", {"If-None-Match": '"v1"'}, {}),
        ("PATCH", {}, {"json": {"title": "mine now"}}),
        ("PATCH", v1, {"json": {"title": "mine now"}}),
        ("PATCH", {"If-Match": '"v9"'}, {"json": {"title": "mine now"}}),
        ("PATCH", {}, {"json": {}}),
        ("DELETE", {}, {}),
        ("DELETE", v1, {}),
    ]

    for method, extra_headers, kwargs in attempts:
        headers = {**bob.headers, **extra_headers}
        foreign = await client.request(method, theirs, headers=headers, **kwargs)
        absent = await client.request(method, missing, headers=headers, **kwargs)
        assert_problem(foreign, 404, "task-not-found")
        assert_problem(absent, 404, "task-not-found")
        assert problem_identity(foreign) == problem_identity(absent), (method, extra_headers)
        assert "etag" not in foreign.headers

    assert await read_task(client, alice, task["id"]) == task


# --- entity tags and conditional requests --------------------------------------------------


async def test_get_with_matching_if_none_match_is_304(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    await client.patch(task_url(task["id"]), json={"title": "v2"}, headers=alice.headers)

    for if_none_match in ['"v2"', 'W/"v2"', "*", '"v1", "v2"', '"x",W/"v2"']:
        response = await client.get(
            task_url(task["id"]), headers={**alice.headers, "If-None-Match": if_none_match}
        )
        assert response.status_code == 304, if_none_match
        assert response.content == b""
        assert response.headers["etag"] == '"v2"'


async def test_get_with_stale_if_none_match_returns_the_task(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    await client.patch(task_url(task["id"]), json={"title": "v2"}, headers=alice.headers)

    for if_none_match in ['"v1"', 'W/"v1"', '"v3"', '"2"', "v2", ""]:
        response = await client.get(
            task_url(task["id"]), headers={**alice.headers, "If-None-Match": if_none_match}
        )
        assert response.status_code == 200, if_none_match
        assert response.json()["version"] == 2
        assert response.headers["etag"] == '"v2"'


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    current = (
        await client.patch(task_url(task["id"]), json={"priority": 2}, headers=alice.headers)
    ).json()
    # Weak tags never match If-Match (strong comparison, RFC 9110 section 13.1.1).
    for if_match in ['"v1"', 'W/"v2"', '"v3"', '"2"', "v2", '"v99999999999999999999"']:
        response = await client.patch(
            task_url(task["id"]),
            json={"title": "Lost update"},
            headers={**alice.headers, "If-Match": if_match},
        )

        problem = assert_problem(response, 412, "version-mismatch")
        assert problem["current_version"] == 2, if_match
        assert response.headers["etag"] == '"v2"'
        assert await read_task(client, alice, task["id"]) == current


async def test_empty_patch_with_stale_if_match_is_412(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)

    response = await client.patch(
        task_url(task["id"]), json={}, headers={**alice.headers, "If-Match": '"v7"'}
    )

    assert assert_problem(response, 412, "version-mismatch")["current_version"] == 1
    assert response.headers["etag"] == '"v1"'


@pytest.mark.parametrize("if_match", ['"v1"', "*", '"v9", "v1"'])
async def test_patch_with_matching_if_match_succeeds(
    client: httpx.AsyncClient, alice: Account, if_match: str
) -> None:
    task = await create_task(client, alice)

    response = await client.patch(
        task_url(task["id"]),
        json={"title": "Guarded"},
        headers={**alice.headers, "If-Match": if_match},
    )

    assert response.status_code == 200, response.text
    assert response.json()["title"] == "Guarded"
    assert response.headers["etag"] == '"v2"'


async def test_delete_with_stale_if_match_is_412_and_keeps_the_task(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    current = (
        await client.patch(task_url(task["id"]), json={"priority": 1}, headers=alice.headers)
    ).json()

    response = await client.delete(
        task_url(task["id"]), headers={**alice.headers, "If-Match": '"v1"'}
    )

    problem = assert_problem(response, 412, "version-mismatch")
    assert problem["current_version"] == 2
    assert response.headers["etag"] == '"v2"'
    assert await read_task(client, alice, task["id"]) == current


async def test_delete_with_matching_if_match_removes_the_task(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)

    response = await client.delete(
        task_url(task["id"]), headers={**alice.headers, "If-Match": '"v1"'}
    )

    assert response.status_code == 204
    assert_problem(
        await client.get(task_url(task["id"]), headers=alice.headers), 404, "task-not-found"
    )


# --- idempotent creation -------------------------------------------------------------------


async def test_same_idempotency_key_and_body_replays_the_first_response(
    client: httpx.AsyncClient, alice: Account
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "order-7f3a"}
    body = {"title": "Pay rent", "priority": 3}

    first = await client.post(TASKS, json=body, headers=headers)
    second = await client.post(TASKS, json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["location"] == first.headers["location"]
    assert [task["id"] for task in await list_tasks(client, alice)] == [first.json()["id"]]


async def test_same_idempotency_key_with_another_body_is_422(
    client: httpx.AsyncClient, alice: Account
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "order-7f3a"}
    first = await client.post(TASKS, json={"title": "Pay rent"}, headers=headers)

    response = await client.post(TASKS, json={"title": "Pay rent twice"}, headers=headers)

    assert_problem(response, 422, "idempotency-key-reused")
    assert [task["id"] for task in await list_tasks(client, alice)] == [first.json()["id"]]


async def test_idempotency_keys_belong_to_one_user(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    key = {"Idempotency-Key": "shared-value-123"}
    alices = await client.post(TASKS, json={"title": "Alice's"}, headers={**alice.headers, **key})

    bobs = await client.post(TASKS, json={"title": "Bob's"}, headers={**bob.headers, **key})
    bobs_again = await client.post(TASKS, json={"title": "Bob's"}, headers={**bob.headers, **key})

    assert bobs.status_code == 201
    assert "idempotent-replayed" not in bobs.headers
    assert bobs.json()["id"] != alices.json()["id"]
    assert bobs_again.json() == bobs.json()
    assert [t["title"] for t in await list_tasks(client, bob)] == ["Bob's"]
    assert [t["title"] for t in await list_tasks(client, alice)] == ["Alice's"]


async def test_idempotency_key_is_free_after_a_rejected_body(
    client: httpx.AsyncClient, alice: Account
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "retry-after-fix"}
    rejected = await client.post(TASKS, json={"title": ""}, headers=headers)

    accepted = await client.post(TASKS, json={"title": "Fixed"}, headers=headers)

    assert rejected.status_code == 422
    assert accepted.status_code == 201
    assert "idempotent-replayed" not in accepted.headers


@pytest.mark.parametrize("key", ["k" * 300, "k" * 256, "", "naïve-key"])
async def test_malformed_idempotency_key_is_400_and_creates_nothing(
    client: httpx.AsyncClient, alice: Account, key: str
) -> None:
    headers = {name.encode(): value.encode() for name, value in alice.headers.items()}
    headers[b"Idempotency-Key"] = key.encode()

    response = await client.post(TASKS, json={"title": "Keyed"}, headers=headers)

    assert_problem(response, 400, "bad-request")
    assert await list_tasks(client, alice) == []


async def test_longest_idempotency_key_is_accepted(
    client: httpx.AsyncClient, alice: Account
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "k" * 255}

    first = await client.post(TASKS, json={"title": "Keyed"}, headers=headers)
    second = await client.post(TASKS, json={"title": "Keyed"}, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json()["id"] == first.json()["id"]
