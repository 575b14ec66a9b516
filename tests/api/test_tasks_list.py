"""Listing tasks: filters, search, every sort order, cursor pagination and the list's entity tag."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import orjson
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

TASKS = "/api/v1/tasks"
SORTS = ["created_at", "updated_at", "due_at", "priority", "position"]
TIMES = {"created_at", "updated_at", "due_at"}
T0 = datetime.fromisoformat("2031-03-01T12:00:00+00:00")


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The shared test settings with the cheapest password hash: these tests make many users."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


async def create_task(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "A task")
    response = await client.post(TASKS, json=fields, headers=account.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def list_ids(client: httpx.AsyncClient, account: Account, **params: Any) -> list[str]:
    response = await client.get(TASKS, params=params, headers=account.headers)
    assert response.status_code == 200, response.text
    return [task["id"] for task in response.json()["items"]]


async def walk(
    client: httpx.AsyncClient, account: Account, limit: int, **params: Any
) -> list[dict[str, Any]]:
    """Every item of every page, following next_cursor; each page but the last is full."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(100):
        query = {**params, "limit": limit} | ({"cursor": cursor} if cursor else {})
        response = await client.get(TASKS, params=query, headers=account.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert set(page) == {"items", "next_cursor"}
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            assert len(page["items"]) <= limit
            return items
        assert len(page["items"]) == limit
    raise AssertionError("pagination did not end")


def python_order(tasks: list[dict[str, Any]], sort: str) -> list[str]:
    """The contract's order: sort value then id, both reversed for '-'; NULLs always last."""
    descending, name = sort.startswith("-"), sort.removeprefix("-")

    def value(task: dict[str, Any]) -> Any:
        raw = task[name]
        return datetime.fromisoformat(raw) if name in TIMES else raw

    present = [t for t in tasks if t[name] is not None]
    absent = [t for t in tasks if t[name] is None]
    present.sort(key=lambda t: (value(t), uuid.UUID(t["id"])), reverse=descending)
    absent.sort(key=lambda t: uuid.UUID(t["id"]), reverse=descending)
    return [t["id"] for t in present + absent]


# 13 tasks: ties in priority, position and due_at, four without a due date, mixed statuses.
SPECS: list[dict[str, Any]] = [
    {"priority": 2, "due_at": at(5), "position": 3.0, "status": "todo"},
    {"priority": 0, "due_at": None, "position": 1.0, "status": "done"},
    {"priority": 4, "due_at": at(1), "position": 3.0, "status": "in_progress"},
    {"priority": 2, "due_at": at(5), "position": 2.5, "status": "todo"},
    {"priority": 2, "due_at": None, "position": 3.0, "status": "todo"},
    {"priority": 1, "due_at": at(-2), "position": -1.0, "status": "done"},
    {"priority": 0, "due_at": at(1), "position": 7.0, "status": "todo"},
    {"priority": 4, "due_at": None, "position": 1.0, "status": "in_progress"},
    {"priority": 3, "due_at": at(5), "position": 0.0, "status": "todo"},
    {"priority": 2, "due_at": at(0), "position": 2.5, "status": "done"},
    {"priority": 1, "due_at": None, "position": 9.0, "status": "todo"},
    {"priority": 0, "due_at": at(5), "position": 3.0, "status": "todo"},
    {"priority": 2, "due_at": at(-2), "position": 3.0, "status": "in_progress"},
]


@pytest.fixture
async def thirteen(client: httpx.AsyncClient, alice: Account) -> list[dict[str, Any]]:
    """Alice's 13 tasks as stored, some edited so updated_at differs from created_at order."""
    created = [
        await create_task(client, alice, title=f"Task {i}", **spec) for i, spec in enumerate(SPECS)
    ]
    for index in (6, 1, 10):
        response = await client.patch(
            f"{TASKS}/{created[index]['id']}", json={"description": "edited"}, headers=alice.headers
        )
        assert response.status_code == 200
    response = await client.get(TASKS, params={"limit": 200}, headers=alice.headers)
    tasks: list[dict[str, Any]] = response.json()["items"]
    assert len(tasks) == len(SPECS)
    return tasks


# --- sort orders and pagination ------------------------------------------------------------


@pytest.mark.parametrize("sort", SORTS + [f"-{name}" for name in SORTS])
async def test_walking_all_pages_returns_every_task_once_in_sort_order(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]], sort: str
) -> None:
    expected = python_order(thirteen, sort)

    for limit in (1, 2, 5, 12, 13, 50):
        walked = [task["id"] for task in await walk(client, alice, limit, sort=sort)]
        assert walked == expected, (sort, limit)


@pytest.mark.parametrize("sort", ["-priority", "due_at", "-due_at", "position"])
async def test_pagination_keeps_the_filters(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]], sort: str
) -> None:
    chosen = [t for t in thirteen if t["status"] in {"todo", "in_progress"} and t["priority"] > 0]

    walked = await walk(
        client, alice, 2, sort=sort, status=["todo", "in_progress"], priority=[1, 2, 3, 4]
    )

    assert [task["id"] for task in walked] == python_order(chosen, sort)


async def test_default_sort_is_creation_order(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]]
) -> None:
    assert await list_ids(client, alice) == python_order(thirteen, "created_at")


async def test_limit_defaults_to_50(client: httpx.AsyncClient, alice: Account) -> None:
    for i in range(51):
        await create_task(client, alice, title=f"Task {i}")

    first = (await client.get(TASKS, headers=alice.headers)).json()
    rest = (
        await client.get(TASKS, params={"cursor": first["next_cursor"]}, headers=alice.headers)
    ).json()

    assert len(first["items"]) == 50
    assert first["next_cursor"]
    assert len(rest["items"]) == 1
    assert rest["next_cursor"] is None
    assert len(await list_ids(client, alice, limit=200)) == 51


@pytest.mark.parametrize(
    ("limit", "slug"),
    [
        # Out of range is a semantic error (docs/api.md); not a whole number, a type error.
        ("0", "validation-error"),
        ("-1", "validation-error"),
        ("201", "validation-error"),
        ("1000", "validation-error"),
        ("abc", "validation-error"),
        ("1.5", "validation-error"),
        ("", "validation-error"),
    ],
)
async def test_limit_outside_1_to_200_is_422(
    client: httpx.AsyncClient, alice: Account, limit: str, slug: str
) -> None:
    response = await client.get(TASKS, params={"limit": limit}, headers=alice.headers)

    problem = assert_problem(response, 422, slug)
    assert [(error["field"], error["in"]) for error in problem["errors"]] == [("limit", "query")]


async def test_empty_list_has_no_next_cursor(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get(TASKS, params={"limit": 1}, headers=alice.headers)

    assert response.json() == {"items": [], "next_cursor": None}


# --- invalid cursors -----------------------------------------------------------------------


def forged(*parts: Any) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).decode().rstrip("=")


async def test_invalid_cursor_is_400(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]]
) -> None:
    page = (await client.get(TASKS, params={"limit": 2}, headers=alice.headers)).json()
    real, some_id = page["next_cursor"], str(uuid.uuid4())
    garbage = ["!!!", "abc", "%%%", "é", "\x00", "=" * 8, "A" * 40]
    tampered = [real[:-6], real[:10], "x" + real[1:], real[::-1], real + "A"]
    wrong_content = [
        base64.urlsafe_b64encode(b'{"sort": "created_at"}').decode(),
        forged("created_at", {"t": T0.isoformat()}),
        forged("created_at", {"t": T0.isoformat()}, some_id, "extra"),
        forged("created_at", {"t": T0.isoformat()}, "not-a-uuid"),
        forged("created_at", {"t": "yesterday"}, some_id),
        forged("created_at", {"t": "2031-03-01T12:00:00"}, some_id),
        forged("created_at", T0.isoformat(), some_id),
        forged("created_at", 17, some_id),
        forged("created_at", {"t": "9999-12-31T23:59:59-05:00"}, some_id),
        forged("created_at", {"t": "0001-01-01T00:00:00+05:00"}, some_id),
    ]

    for cursor in garbage + tampered + wrong_content:
        response = await client.get(TASKS, params={"cursor": cursor}, headers=alice.headers)
        assert_problem(response, 400, "invalid-cursor")


async def test_cursor_whose_id_is_not_a_string_is_400(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for last_id in [12345, [str(uuid.uuid4())], {"id": 1}, None]:
        cursor = forged("created_at", {"t": T0.isoformat()}, last_id)

        response = await client.get(TASKS, params={"cursor": cursor}, headers=alice.headers)

        assert_problem(response, 400, "invalid-cursor")


def forged_raw(json_text: str) -> str:
    """A cursor around hand-written JSON, for numbers orjson would not write."""
    return base64.urlsafe_b64encode(json_text.encode()).decode()


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("priority", "high"),
        ("priority", 2.5),
        ("priority", True),
        ("priority", 40_000),
        ("priority", 2**63),
        ("priority", -(2**64)),
        ("priority", 7),
        ("priority", None),
        ("created_at", None),
        ("-position", None),
        ("position", "top"),
        ("position", {"t": "2031-03-01T12:00:00+00:00"}),
        ("due_at", 5),
    ],
)
async def test_cursor_with_a_value_of_the_wrong_kind_is_400(
    client: httpx.AsyncClient, alice: Account, sort: str, value: Any
) -> None:
    await create_task(client, alice, due_at=at(0))
    some_id = str(uuid.uuid4())
    if isinstance(value, int) and not -(2**63) <= value < 2**64:
        cursor = forged_raw(f'["{sort}", {value}, "{some_id}"]')
    else:
        cursor = forged(sort, value, some_id)

    response = await client.get(
        TASKS, params={"sort": sort, "cursor": cursor}, headers=alice.headers
    )

    assert_problem(response, 400, "invalid-cursor")


async def test_cursor_from_another_sort_is_400(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]]
) -> None:
    cursors = {}
    for sort in ("created_at", "-created_at", "priority", "position"):
        page = await client.get(TASKS, params={"sort": sort, "limit": 3}, headers=alice.headers)
        cursors[sort] = page.json()["next_cursor"]

    for made_for, used_for in [
        ("created_at", "-created_at"),
        ("-created_at", "created_at"),
        ("priority", "position"),
        ("position", "-position"),
        ("created_at", "updated_at"),
    ]:
        response = await client.get(
            TASKS, params={"sort": used_for, "cursor": cursors[made_for]}, headers=alice.headers
        )
        assert_problem(response, 400, "invalid-cursor")


# --- filters and search --------------------------------------------------------------------


async def test_status_filter_is_repeatable(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]]
) -> None:
    def having(*statuses: str) -> list[str]:
        return [t["id"] for t in thirteen if t["status"] in statuses]

    assert await list_ids(client, alice, status="done") == having("done")
    assert await list_ids(client, alice, status=["todo", "done"]) == having("todo", "done")
    assert await list_ids(client, alice, status=["done", "done"]) == having("done")
    assert await list_ids(client, alice, status=["todo", "in_progress", "done"]) == having(
        "todo", "in_progress", "done"
    )


async def test_priority_filter_is_repeatable(
    client: httpx.AsyncClient, alice: Account, thirteen: list[dict[str, Any]]
) -> None:
    def having(*priorities: int) -> list[str]:
        return [t["id"] for t in thirteen if t["priority"] in priorities]

    assert await list_ids(client, alice, priority=4) == having(4)
    assert await list_ids(client, alice, priority=[0, 3]) == having(0, 3)
    assert await list_ids(client, alice, priority=2, status="todo") == [
        t["id"] for t in thirteen if t["priority"] == 2 and t["status"] == "todo"
    ]


async def test_due_before_is_exclusive_and_due_after_inclusive(
    client: httpx.AsyncClient, alice: Account
) -> None:
    early = await create_task(client, alice, due_at=at(-1))
    exact = await create_task(client, alice, due_at=at(0))
    late = await create_task(client, alice, due_at=at(1))
    await create_task(client, alice)  # no due date: matches neither bound
    bound = T0.isoformat()

    assert await list_ids(client, alice, due_before=bound) == [early["id"]]
    assert await list_ids(client, alice, due_after=bound) == [exact["id"], late["id"]]
    in_window = await list_ids(client, alice, due_after=at(-1), due_before=at(1))
    assert in_window == [early["id"], exact["id"]]
    new_york = timezone(timedelta(hours=-5))
    other_offset = (T0 + timedelta(hours=1)).astimezone(new_york).isoformat()
    assert await list_ids(client, alice, due_before=other_offset) == [early["id"], exact["id"]]


async def test_q_searches_title_and_description_ignoring_case(
    client: httpx.AsyncClient, alice: Account
) -> None:
    in_title = await create_task(client, alice, title="Buy GROCERIES")
    in_description = await create_task(client, alice, title="Errand", description="groceries list")
    await create_task(client, alice, title="Unrelated", description="nothing here")

    assert await list_ids(client, alice, q="groceries") == [in_title["id"], in_description["id"]]
    assert await list_ids(client, alice, q="GrOcErIeS LiSt") == [in_description["id"]]
    assert await list_ids(client, alice, q="absent") == []


async def test_q_treats_like_wildcards_literally(client: httpx.AsyncClient, alice: Account) -> None:
    percent = await create_task(client, alice, title="100% done")
    await create_task(client, alice, title="1000 done")
    underscore = await create_task(client, alice, title="file_name")
    await create_task(client, alice, title="fileXname")
    backslash = await create_task(client, alice, title="C:\\temp")
    await create_task(client, alice, title="C:temp")

    assert await list_ids(client, alice, q="100%") == [percent["id"]]
    assert await list_ids(client, alice, q="%") == [percent["id"]]
    assert await list_ids(client, alice, q="file_") == [underscore["id"]]
    assert await list_ids(client, alice, q="_") == [underscore["id"]]
    assert await list_ids(client, alice, q="\\") == [backslash["id"]]
    assert await list_ids(client, alice, q="C:\\t") == [backslash["id"]]


async def test_other_users_tasks_never_appear_in_list_or_search(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    alices = await create_task(client, alice, title="Shared word: quarterly report")
    bobs = await create_task(client, bob, title="Shared word: quarterly report", priority=4)
    await create_task(client, bob, title="Bob only", status="done", due_at=at(0))

    searches: list[dict[str, Any]] = [
        {},
        {"q": "quarterly"},
        {"q": "Bob"},
        {"status": "done"},
        {"priority": 4},
        {"due_before": at(100)},
        {"sort": "-priority", "limit": 1},
    ]
    for params in searches:
        ids = await list_ids(client, alice, **params)
        assert bobs["id"] not in ids, params
        assert set(ids) <= {alices["id"]}, params
    assert await list_ids(client, bob, q="quarterly") == [bobs["id"]]


@pytest.mark.parametrize(
    "params",
    [
        {"status": "archived"},
        {"status": "TODO"},
        {"priority": "7"},
        {"priority": "high"},
        {"sort": "title"},
        {"sort": "--priority"},
        {"due_before": "tomorrow"},
        {"due_after": "2031-03-01T12:00:00"},
        {"due_before": "9999-12-31T23:59:59-05:00"},
        {"q": ""},
        {"q": "a\x00b"},
        {"q": "x" * 201},
    ],
    ids=lambda params: "&".join(f"{k}={str(v)[:20]!r}" for k, v in params.items()),
)
async def test_bad_query_parameter_is_422(
    client: httpx.AsyncClient, alice: Account, params: dict[str, str]
) -> None:
    response = await client.get(TASKS, params=params, headers=alice.headers)

    problem = assert_problem(response, 422, "validation-error")
    # A repeatable parameter names the bad occurrence: "status.0".
    assert [error["field"].split(".")[0] for error in problem["errors"]] == list(params)
    assert all(error["in"] == "query" for error in problem["errors"])


# --- the list's entity tag -----------------------------------------------------------------


async def test_list_has_an_etag_and_if_none_match_gives_304(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    first = await client.get(TASKS, headers=alice.headers)
    etag = first.headers["etag"]

    for if_none_match in [etag, f"W/{etag}", "*", f'"other", {etag}']:
        again = await client.get(TASKS, headers={**alice.headers, "If-None-Match": if_none_match})
        assert again.status_code == 304, if_none_match
        assert again.content == b""
        assert again.headers["etag"] == etag
    await client.patch(f"{TASKS}/{task['id']}", json={"title": "Changed"}, headers=alice.headers)

    changed = await client.get(TASKS, headers={**alice.headers, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["items"][0]["title"] == "Changed"


async def test_list_etag_depends_on_the_query(client: httpx.AsyncClient, alice: Account) -> None:
    await create_task(client, alice, status="done")
    everything = await client.get(TASKS, headers=alice.headers)

    todo_only = await client.get(
        TASKS,
        params={"status": "todo"},
        headers={**alice.headers, "If-None-Match": everything.headers["etag"]},
    )

    assert todo_only.status_code == 200
    assert todo_only.json()["items"] == []


async def test_list_items_are_the_task_representations(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice, description="d", due_at=at(3), status="done")

    listed = (await client.get(TASKS, headers=alice.headers)).json()["items"]
    fetched = (await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)).json()

    assert listed == [fetched] == [task]
