"""Labels over HTTP: each user's own set, names unique regardless of case, a cap, entity tags."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.labels.models import task_labels
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

LABELS = "/api/v1/labels"
FIELDS = {"id", "name", "color", "version", "created_at", "updated_at"}
JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    """The cheapest password hash (these tests make many users), plus any overrides a test
    passes with `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


def label_url(label_id: str) -> str:
    return f"{LABELS}/{label_id}"


def problem_identity(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    return body["type"], body["title"], body["detail"], body["status"]


async def create_label(
    client: httpx.AsyncClient, account: Account, name: str = "Errands", **fields: Any
) -> dict[str, Any]:
    response = await client.post(LABELS, json={"name": name, **fields}, headers=account.headers)
    assert response.status_code == 201, response.text
    label: dict[str, Any] = response.json()
    return label


async def read_label(client: httpx.AsyncClient, account: Account, label_id: str) -> dict[str, Any]:
    response = await client.get(label_url(label_id), headers=account.headers)
    assert response.status_code == 200, response.text
    label: dict[str, Any] = response.json()
    return label


async def list_labels(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get(LABELS, headers=account.headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"items"}
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def user_id(client: httpx.AsyncClient, account: Account) -> uuid.UUID:
    response = await client.get("/api/v1/users/me", headers=account.headers)
    assert response.status_code == 200, response.text
    return uuid.UUID(response.json()["id"])


# --- creating, reading, changing, deleting ------------------------------------------------


async def test_created_label_has_every_field(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(
        LABELS, json={"name": "  Home  ", "color": "#A1B2C3"}, headers=alice.headers
    )

    assert response.status_code == 201, response.text
    label = response.json()
    assert set(label) == FIELDS
    assert uuid.UUID(label["id"])
    assert label["name"] == "Home"
    assert label["color"] == "#a1b2c3"
    assert label["version"] == 1
    assert datetime.fromisoformat(label["created_at"]).tzinfo is not None
    assert label["created_at"] == label["updated_at"]
    assert response.headers["etag"] == '"v1"'
    assert response.headers["location"].endswith(label_url(label["id"]))


async def test_color_is_optional(client: httpx.AsyncClient, alice: Account) -> None:
    label = await create_label(client, alice, "Plain")
    explicit = await create_label(client, alice, "Also plain", color=None)

    assert label["color"] is None
    assert explicit["color"] is None


async def test_read_label_is_the_created_representation(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create_label(client, alice, "Work", color="#00ff00")

    response = await client.get(label_url(created["id"]), headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == '"v1"'


async def test_get_with_current_if_none_match_is_304(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)

    fresh = await client.get(
        label_url(label["id"]), headers={**alice.headers, "If-None-Match": '"v1"'}
    )
    stale = await client.get(
        label_url(label["id"]), headers={**alice.headers, "If-None-Match": '"v0"'}
    )

    assert fresh.status_code == 304
    assert fresh.headers["etag"] == '"v1"'
    assert stale.status_code == 200
    assert stale.json() == label


async def test_list_holds_only_own_labels_by_name_ignoring_case(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    for name in ["beta", "Gamma", "alpha", "Delta"]:
        await create_label(client, alice, name)
    await create_label(client, bob, "Bob's")

    names = [label["name"] for label in await list_labels(client, alice)]

    assert names == ["alpha", "beta", "Delta", "Gamma"]
    assert [label["name"] for label in await list_labels(client, bob)] == ["Bob's"]


async def test_list_is_empty_without_labels(client: httpx.AsyncClient, alice: Account) -> None:
    assert await list_labels(client, alice) == []


async def test_patch_changes_only_the_fields_sent_and_bumps_the_version(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice, "Home", color="#111111")

    renamed = await client.patch(
        label_url(label["id"]), json={"name": " House "}, headers=alice.headers
    )
    recolored = await client.patch(
        label_url(label["id"]), json={"color": "#ABCDEF"}, headers=alice.headers
    )

    assert renamed.status_code == 200, renamed.text
    assert renamed.json()["name"] == "House"
    assert renamed.json()["color"] == "#111111"
    assert renamed.json()["version"] == 2
    assert renamed.headers["etag"] == '"v2"'
    assert recolored.status_code == 200, recolored.text
    current = recolored.json()
    assert (current["name"], current["color"], current["version"]) == ("House", "#abcdef", 3)
    assert current["created_at"] == label["created_at"]
    assert current["updated_at"] >= label["updated_at"]
    assert await read_label(client, alice, label["id"]) == current


async def test_null_color_in_patch_clears_it(client: httpx.AsyncClient, alice: Account) -> None:
    label = await create_label(client, alice, color="#123456")

    response = await client.patch(
        label_url(label["id"]), json={"color": None}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["color"] is None


async def test_renaming_a_label_to_another_case_of_its_own_name_is_allowed(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice, "urgent")

    response = await client.patch(
        label_url(label["id"]), json={"name": "URGENT"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "URGENT"


async def test_empty_patch_changes_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    label = await create_label(client, alice)

    response = await client.patch(label_url(label["id"]), json={}, headers=alice.headers)

    assert response.status_code == 200
    assert response.json() == label
    assert response.headers["etag"] == '"v1"'


async def test_deleted_label_is_gone(client: httpx.AsyncClient, alice: Account) -> None:
    label = await create_label(client, alice)

    response = await client.delete(label_url(label["id"]), headers=alice.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(
        await client.get(label_url(label["id"]), headers=alice.headers), 404, "label-not-found"
    )
    assert_problem(
        await client.delete(label_url(label["id"]), headers=alice.headers), 404, "label-not-found"
    )
    assert await list_labels(client, alice) == []


async def test_deleting_a_label_takes_it_off_every_task(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)
    task = await client.post("/api/v1/tasks", json={"title": "Labelled"}, headers=alice.headers)
    assert task.status_code == 201, task.text
    task_id, label_id = uuid.UUID(task.json()["id"]), uuid.UUID(label["id"])
    db = app.state.context.db
    async with db.transaction() as conn:
        await conn.execute(sa.insert(task_labels).values(task_id=task_id, label_id=label_id))

    response = await client.delete(label_url(label["id"]), headers=alice.headers)

    assert response.status_code == 204
    async with db.transaction() as conn:
        left = (await conn.execute(sa.select(sa.func.count()).select_from(task_labels))).scalar()
    assert left == 0
    still_there = await client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers)
    assert still_there.status_code == 200, still_there.text


# --- bad input: a 422 naming the field, and nothing stored ---------------------------------

# (label, request body, field named in `errors`)
BAD_BODIES: list[tuple[str, Any, str]] = [
    ("name is empty", {"name": ""}, "name"),
    ("name is whitespace", {"name": " \t\n "}, "name"),
    ("name too long", {"name": "x" * 61}, "name"),
    ("name has a comma", {"name": "a,b"}, "name"),
    ("name has NUL", {"name": "a\x00b"}, "name"),
    ("name is a number", {"name": 7}, "name"),
    ("name is a list", {"name": ["a"]}, "name"),
    ("name lone surrogate", b'{"name": "a\\ud800b"}', "name"),
    ("color is a word", {"color": "red"}, "color"),
    ("color too short", {"color": "#12345"}, "color"),
    ("color too long", {"color": "#1234567"}, "color"),
    ("color not hex", {"color": "#12345g"}, "color"),
    ("color without #", {"color": "123456"}, "color"),
    ("color three digits", {"color": "#abc"}, "color"),
    ("color trailing newline", {"color": "#123456\n"}, "color"),
    ("color is a number", {"color": 123456}, "color"),
    ("unknown field", {"colour": "#123456"}, "colour"),
    ("read-only field", {"version": 3}, "version"),
]


def _send(account: Account, body: Any, *, as_create: bool) -> dict[str, Any]:
    """Request arguments for `body`; for a create, a valid name goes along with the bad field."""
    if isinstance(body, bytes):
        return {"content": body, "headers": {**account.headers, **JSON}}
    if as_create and "name" not in body:
        body = {"name": "A valid name", **body}
    return {"json": body, "headers": account.headers}


@pytest.mark.parametrize(
    ("body", "field"), [case[1:] for case in BAD_BODIES], ids=[case[0] for case in BAD_BODIES]
)
async def test_bad_body_is_a_422_naming_the_field_and_stores_nothing(
    client: httpx.AsyncClient, alice: Account, body: Any, field: str
) -> None:
    label = await create_label(client, alice, color="#000000")

    created = await client.post(LABELS, **_send(alice, body, as_create=True))
    patched = await client.patch(label_url(label["id"]), **_send(alice, body, as_create=False))

    for response in (created, patched):
        problem = assert_problem(response, 422, "validation-error")
        assert [error["field"] for error in problem["errors"]] == [field], problem
    assert await list_labels(client, alice) == [label]


async def test_comma_in_a_name_is_refused_saying_why(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(LABELS, json={"name": "home, garden"}, headers=alice.headers)

    problem = assert_problem(response, 422, "validation-error")
    assert "comma" in problem["errors"][0]["message"]
    assert "CSV" in problem["errors"][0]["message"]


async def test_name_of_60_characters_after_trimming_is_accepted(
    client: httpx.AsyncClient, alice: Account
) -> None:
    name = "é" * 60

    label = await create_label(client, alice, f"   {name}\t")

    assert label["name"] == name


async def test_missing_name_or_null_name_in_patch_is_a_422(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)

    missing = await client.post(LABELS, json={"color": "#123456"}, headers=alice.headers)
    null = await client.patch(label_url(label["id"]), json={"name": None}, headers=alice.headers)

    for response in (missing, null):
        problem = assert_problem(response, 422, "validation-error")
        assert [error["field"] for error in problem["errors"]] == ["name"]
    assert await read_label(client, alice, label["id"]) == label


@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_invalid_label_id_in_path_is_a_422(
    client: httpx.AsyncClient, alice: Account, method: str
) -> None:
    kwargs: dict[str, Any] = {"json": {"name": "x"}} if method == "PATCH" else {}

    response = await client.request(
        method, label_url("not-a-uuid"), headers=alice.headers, **kwargs
    )

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["field"] == "label_id"
    assert problem["errors"][0]["in"] == "path"


# --- names unique per user, regardless of case ---------------------------------------------


async def test_name_differing_only_in_case_is_a_409(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await create_label(client, alice, "Urgent")

    for name in ["Urgent", "urgent", " URGENT "]:
        response = await client.post(LABELS, json={"name": name}, headers=alice.headers)
        assert_problem(response, 409, "label-exists")

    assert [label["name"] for label in await list_labels(client, alice)] == ["Urgent"]


async def test_renaming_to_another_labels_name_in_any_case_is_a_409(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await create_label(client, alice, "Urgent")
    other = await create_label(client, alice, "Later")

    response = await client.patch(
        label_url(other["id"]), json={"name": "uRGENT"}, headers=alice.headers
    )

    assert_problem(response, 409, "label-exists")
    assert await read_label(client, alice, other["id"]) == other


async def test_two_users_may_have_labels_of_the_same_name(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    mine = await create_label(client, alice, "Work")
    theirs = await create_label(client, bob, "work")

    assert mine["id"] != theirs["id"]


async def test_concurrent_creations_of_one_name_make_one_label(
    client: httpx.AsyncClient, alice: Account
) -> None:
    names = ["Same", "same", "SAME", "sAmE", "samE"]

    responses = await asyncio.gather(
        *(client.post(LABELS, json={"name": name}, headers=alice.headers) for name in names)
    )

    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409, 409]
    assert len(await list_labels(client, alice)) == 1


# --- ownership -----------------------------------------------------------------------------


async def test_other_users_label_is_not_found_like_a_missing_one(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    label = await create_label(client, alice)
    theirs, missing = label_url(label["id"]), label_url(str(uuid.uuid4()))
    attempts: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("GET", {}, {}),
        ("PATCH", {}, {"json": {"name": "mine now"}}),
        ("PATCH", {"If-Match": '"v1"'}, {"json": {"color": "#ffffff"}}),
        ("PATCH", {"If-Match": '"v9"'}, {"json": {}}),
        ("PATCH", {}, {"json": {}}),
        ("DELETE", {}, {}),
        ("DELETE", {"If-Match": '"v1"'}, {}),
    ]

    for method, extra_headers, kwargs in attempts:
        headers = {**bob.headers, **extra_headers}
        foreign = await client.request(method, theirs, headers=headers, **kwargs)
        absent = await client.request(method, missing, headers=headers, **kwargs)
        assert_problem(foreign, 404, "label-not-found")
        assert_problem(absent, 404, "label-not-found")
        assert problem_identity(foreign) == problem_identity(absent), (method, extra_headers)
        assert "etag" not in foreign.headers

    assert await read_label(client, alice, label["id"]) == label
    assert await list_labels(client, bob) == []


async def test_owned_answers_which_ids_are_the_owners_labels(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    mine = [uuid.UUID((await create_label(client, alice, name))["id"]) for name in ["a", "b"]]
    theirs = uuid.UUID((await create_label(client, bob, "c"))["id"])
    owner, ctx = await user_id(client, alice), app.state.context

    async with ctx.db.transaction() as conn:
        found = await ctx.labels.owned(conn, owner, [*mine, theirs, uuid.uuid4(), mine[0]])
        none = await ctx.labels.owned(conn, owner, [])

    assert found == set(mine)
    assert all(type(label_id) is uuid.UUID for label_id in found)
    assert none == set()


# --- the cap per user ----------------------------------------------------------------------


@pytest.mark.parametrize("settings", [{"labels_max_per_user": 2}], indirect=True)
async def test_label_over_the_limit_is_a_409_until_one_is_deleted(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    first = await create_label(client, alice, "one")
    await create_label(client, alice, "two")

    refused = await client.post(LABELS, json={"name": "three"}, headers=alice.headers)
    others = await client.post(LABELS, json={"name": "three"}, headers=bob.headers)
    await client.delete(label_url(first["id"]), headers=alice.headers)
    after_delete = await client.post(LABELS, json={"name": "three"}, headers=alice.headers)

    problem = assert_problem(refused, 409, "label-limit")
    assert "2" in problem["detail"]
    assert others.status_code == 201, others.text
    assert after_delete.status_code == 201, after_delete.text
    assert [label["name"] for label in await list_labels(client, alice)] == ["three", "two"]


@pytest.mark.parametrize("settings", [{"labels_max_per_user": 2}], indirect=True)
async def test_renaming_at_the_limit_is_allowed(client: httpx.AsyncClient, alice: Account) -> None:
    await create_label(client, alice, "one")
    second = await create_label(client, alice, "two")

    response = await client.patch(
        label_url(second["id"]), json={"name": "deux"}, headers=alice.headers
    )

    assert response.status_code == 200, response.text


@pytest.mark.parametrize("settings", [{"labels_max_per_user": 2}], indirect=True)
async def test_concurrent_creations_stop_at_the_limit(
    client: httpx.AsyncClient, alice: Account
) -> None:
    responses = await asyncio.gather(
        *(client.post(LABELS, json={"name": f"n{i}"}, headers=alice.headers) for i in range(6))
    )

    assert sorted(r.status_code for r in responses) == [201, 201, 409, 409, 409, 409]
    assert len(await list_labels(client, alice)) == 2


# --- entity tags and conditional requests --------------------------------------------------


async def test_patch_with_stale_if_match_is_412_and_changes_nothing(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)
    current = (
        await client.patch(label_url(label["id"]), json={"color": "#222222"}, headers=alice.headers)
    ).json()

    for if_match in ['"v1"', 'W/"v2"', '"v3"', "v2"]:
        for body in ({"name": "Lost update"}, {}):
            response = await client.patch(
                label_url(label["id"]), json=body, headers={**alice.headers, "If-Match": if_match}
            )
            problem = assert_problem(response, 412, "version-mismatch")
            assert problem["current_version"] == 2, if_match
            assert response.headers["etag"] == '"v2"'
    assert await read_label(client, alice, label["id"]) == current


@pytest.mark.parametrize("if_match", ['"v1"', "*", '"v9", "v1"'])
async def test_patch_with_matching_if_match_succeeds(
    client: httpx.AsyncClient, alice: Account, if_match: str
) -> None:
    label = await create_label(client, alice)

    response = await client.patch(
        label_url(label["id"]),
        json={"name": "Guarded"},
        headers={**alice.headers, "If-Match": if_match},
    )

    assert response.status_code == 200, response.text
    assert response.json()["name"] == "Guarded"
    assert response.headers["etag"] == '"v2"'


async def test_delete_with_stale_if_match_is_412_and_keeps_the_label(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)
    current = (
        await client.patch(label_url(label["id"]), json={"name": "Renamed"}, headers=alice.headers)
    ).json()

    stale = await client.delete(
        label_url(label["id"]), headers={**alice.headers, "If-Match": '"v1"'}
    )
    fresh = await client.delete(
        label_url(label["id"]), headers={**alice.headers, "If-Match": '"v2"'}
    )

    assert assert_problem(stale, 412, "version-mismatch")["current_version"] == 2
    assert stale.headers["etag"] == '"v2"'
    assert fresh.status_code == 204
    assert current["version"] == 2


# --- authentication and scopes -------------------------------------------------------------


async def test_labels_need_authentication(client: httpx.AsyncClient, alice: Account) -> None:
    label = await create_label(client, alice)

    assert_problem(await client.get(LABELS), 401, "unauthorized")
    assert_problem(await client.post(LABELS, json={"name": "x"}), 401, "unauthorized")
    assert_problem(await client.get(label_url(label["id"])), 401, "unauthorized")
    assert_problem(await client.patch(label_url(label["id"]), json={}), 401, "unauthorized")
    assert_problem(await client.delete(label_url(label["id"])), 401, "unauthorized")
    assert await read_label(client, alice, label["id"]) == label


async def test_read_only_api_key_reads_labels_but_cannot_change_them(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await create_label(client, alice)
    created = await client.post(
        "/api/v1/api-keys", json={"name": "ro", "scopes": ["tasks:read"]}, headers=alice.headers
    )
    assert created.status_code == 201, created.text
    key = {"X-API-Key": created.json()["key"]}

    listed = await client.get(LABELS, headers=key)
    read = await client.get(label_url(label["id"]), headers=key)
    writes = [
        await client.post(LABELS, json={"name": "x"}, headers=key),
        await client.patch(label_url(label["id"]), json={"name": "x"}, headers=key),
        await client.delete(label_url(label["id"]), headers=key),
    ]

    assert listed.status_code == 200
    assert listed.json()["items"] == [label]
    assert read.json() == label
    for response in writes:
        assert_problem(response, 403, "insufficient-scope")
    assert await read_label(client, alice, label["id"]) == label
