"""Importing a Todoist project's CSV over HTTP: one new project with its sections, subtasks,
@labels and notes; a bad row is a 422 naming it, and nothing is created."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.portability import API, TODOIST, ok
from tests.support.sharing import PROJECTS, TASKS

FIXTURE = Path(__file__).parent.parent / "fixtures" / "todoist_project.csv"
HEADER = "TYPE,CONTENT,DESCRIPTION,PRIORITY,INDENT,AUTHOR,RESPONSIBLE,DATE,DATE_LANG,TIMEZONE"
CSV = {"content-type": "text/csv"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = {
        "rate_limit_portability": "1000/hour",
        **getattr(request, "param", {}),
    }
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


async def upload(
    client: httpx.AsyncClient, account: Account, body: bytes, **params: str
) -> httpx.Response:
    return await client.post(
        TODOIST, content=body, params=params, headers={**account.headers, **CSV}
    )


def rows(*lines: str) -> bytes:
    return "\r\n".join([HEADER, *lines, ""]).encode()


async def tasks_of(
    client: httpx.AsyncClient, account: Account, project_id: str
) -> dict[str, dict[str, Any]]:
    page = await ok(
        await client.get(
            TASKS, params={"project_id": project_id, "limit": 200}, headers=account.headers
        )
    )
    return {task["title"]: task for task in page["items"]}


async def project_names(client: httpx.AsyncClient, account: Account) -> list[str]:
    return [
        p["name"] for p in (await ok(await client.get(PROJECTS, headers=account.headers)))["items"]
    ]


async def test_a_todoist_export_becomes_one_project(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await ok(
        await client.post(f"{API}/labels", json={"name": "ERRANDS"}, headers=alice.headers), 201
    )

    result = await ok(await upload(client, alice, FIXTURE.read_bytes(), project_name="Home"), 201)

    assert {k: v for k, v in result.items() if k != "project_ids"} == {
        "projects": 1,
        "sections": 2,
        "tasks": 8,
        "labels": 3,  # Money, home, garden; errands is alice's ERRANDS
        "comments": 2,
        "reminders": 0,
    }
    [project_id] = result["project_ids"]
    project = await ok(await client.get(f"{PROJECTS}/{project_id}", headers=alice.headers))
    assert project["name"] == "Home"
    assert project["role"] == "owner"
    sections = await ok(
        await client.get(f"{PROJECTS}/{project_id}/sections", headers=alice.headers)
    )
    section_ids = {s["name"]: s["id"] for s in sections["items"]}
    assert list(section_ids) == ["Garden", "Someday"]
    labels = {
        label["name"]: label["id"]
        for label in (await ok(await client.get(f"{API}/labels", headers=alice.headers)))["items"]
    }
    assert set(labels) == {"ERRANDS", "Money", "home", "garden"}

    tasks = await tasks_of(client, alice, project_id)
    passport = tasks["Renew passport"]
    assert passport["priority"] == 4  # p1
    assert passport["labels"] == [labels["ERRANDS"]]
    assert passport["description"] == "Bring two photos"
    assert passport["due_date"] == "2025-03-14"
    assert passport["due_at"] == "2025-03-14T00:00:00Z"
    assert passport["due_timezone"] is None
    assert passport["parent_id"] is None
    assert passport["section_id"] is None
    fee = tasks["Pay the fee"]
    assert fee["parent_id"] == passport["id"]
    assert fee["priority"] == 2  # p3
    assert sorted(fee["labels"]) == sorted([labels["ERRANDS"], labels["Money"]])
    assert fee["due_at"] == "2025-03-10T08:30:00Z"  # 09:30 in Berlin
    assert fee["due_timezone"] == "Europe/Berlin"
    assert fee["due_date"] is None
    assert tasks["Fill in the form"]["parent_id"] == passport["id"]
    assert tasks["Fill in the form"]["priority"] == 0  # p4, Todoist's default
    roses = tasks["Water the roses, gently"]
    assert roses["section_id"] == section_ids["Garden"]
    assert roses["due_at"] is None
    assert roses["description"] == "Todoist date: every monday"
    mulch = tasks["Buy mulch"]
    assert mulch["priority"] == 3  # p2
    assert mulch["description"] == "From the shop\non Elm Street\n\nTodoist date: tomorrow"
    ask = tasks["Ask Bob about the big bags"]
    assert ask["parent_id"] == tasks["Compare prices"]["id"]
    assert tasks["Compare prices"]["parent_id"] == mulch["id"]
    assert ask["labels"] == [labels["home"]]
    prune = tasks["Learn to prune"]
    assert prune["section_id"] == section_ids["Someday"]
    assert prune["due_at"] == "2025-06-01T08:00:00Z"
    assert prune["priority"] == 0

    notes = await ok(await client.get(f"{TASKS}/{passport['id']}/comments", headers=alice.headers))
    assert [c["body"] for c in notes["items"]] == ["Appointment confirmation:\nbooking ref X7Q2"]
    notes = await ok(await client.get(f"{TASKS}/{ask['id']}/comments", headers=alice.headers))
    assert [c["body"] for c in notes["items"]] == ["Bob says the big bags are cheaper"]


async def test_the_project_has_a_default_name_and_tolerates_a_minimal_file(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = b"type,content\ntask,Just this\n"

    result = await ok(await upload(client, alice, body), 201)

    assert "Imported from Todoist" in await project_names(client, alice)
    tasks = await tasks_of(client, alice, result["project_ids"][0])
    assert list(tasks) == ["Just this"]


async def test_an_email_address_is_no_label(client: httpx.AsyncClient, alice: Account) -> None:
    result = await ok(await upload(client, alice, rows("task,Write to ada@example.com @work")), 201)

    assert result["labels"] == 1
    tasks = await tasks_of(client, alice, result["project_ids"][0])
    assert list(tasks) == ["Write to ada@example.com"]


@pytest.mark.parametrize(
    ("lines", "row", "column"),
    [
        (("task,One,,5,1",), 2, "PRIORITY"),
        (("task,One,,1,1", "task,Two,,1,3"), 3, "INDENT"),
        (("task,One,,1,x",), 2, "INDENT"),
        (("note,Orphan note",), 2, "TYPE"),
        (("task,One", "section,S", "note,After a section"), 4, "TYPE"),
        (("task,One", "", "milestone,Two"), 4, "TYPE"),
        (("task,   ",), 2, "CONTENT"),
        (("task," + "x" * 501,), 2, "CONTENT"),
        (("task,One @" + "l" * 61,), 2, "CONTENT"),
        (('task,"One",,1,1,,,2025-02-30',), 2, "DATE"),
        (("task,One,,1,7",), 2, "INDENT"),
        (("task,One,,1,1,,,0001-01-01 00:30,en,Asia/Tokyo",), 2, "DATE"),
        (("task,One,,1,1,,,9999-12-31 23:30,en,America/New_York",), 2, "DATE"),
    ],
)
async def test_a_bad_row_is_named_and_nothing_is_created(
    client: httpx.AsyncClient, alice: Account, lines: tuple[str, ...], row: int, column: str
) -> None:
    before = await project_names(client, alice)

    body = assert_problem(await upload(client, alice, rows(*lines)), 422, "validation-error")

    assert [(e["row"], e["field"]) for e in body["errors"]] == [(row, f"rows[{row}].{column}")]
    assert body["detail"].startswith(f"row {row}: ")
    assert await project_names(client, alice) == before


async def test_every_bad_row_is_named(client: httpx.AsyncClient, alice: Account) -> None:
    body = assert_problem(
        await upload(client, alice, rows("task,One,,9", "task,Two", "task,Three,,0")), 422
    )

    assert [e["row"] for e in body["errors"]] == [2, 4]


@pytest.mark.parametrize(
    "body",
    [b"", b"\xef\xbb\xbf", b"name,value\nx,y\n", b"\n\nCONTENT\n"],
    ids=["empty", "bom-only", "other-csv", "no-type-column"],
)
async def test_a_file_without_todoist_columns_is_refused(
    client: httpx.AsyncClient, alice: Account, body: bytes
) -> None:
    response = await upload(client, alice, body)

    problem = assert_problem(response, 422, "validation-error")
    assert problem["errors"][0]["code"] == "header"


async def test_a_file_that_is_not_utf8_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    problem = assert_problem(
        await upload(client, alice, rows("task,Caf\xe9").replace(b"\xc3\xa9", b"\xe9")), 422
    )
    assert problem["errors"][0]["field"] == "body"


async def test_quoted_newlines_and_crlf_and_lf_mixed(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = (
        HEADER + '\ntask,"Two\r\nlines",,1,1\r\nnote,"A note\nwith ""quotes"", and commas",,,\n'
    ).encode()

    result = await ok(await upload(client, alice, body), 201)

    tasks = await tasks_of(client, alice, result["project_ids"][0])
    assert list(tasks) == ["Two lines"]
    notes = await ok(
        await client.get(f"{TASKS}/{tasks['Two lines']['id']}/comments", headers=alice.headers)
    )
    assert notes["items"][0]["body"] == 'A note\nwith "quotes", and commas'


async def test_the_todoist_import_reads_csv_only(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(TODOIST, json={"rows": []}, headers=alice.headers)

    assert_problem(response, 415, "unsupported-media-type")


async def test_the_project_name_is_validated(client: httpx.AsyncClient, alice: Account) -> None:
    for name in ("", " ", "x" * 121):
        body = assert_problem(await upload(client, alice, rows("task,One"), project_name=name), 422)
        assert body["errors"][0]["field"] == "project_name"


@pytest.mark.parametrize("settings", [{"import_max_tasks": 2}], indirect=True)
async def test_a_file_over_the_task_limit_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = assert_problem(await upload(client, alice, rows("task,1", "task,2", "task,3")), 422)

    assert body["errors"][0]["field"] == "rows"


async def test_the_todoist_import_needs_the_write_scope(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await ok(
        await client.post(
            f"{API}/api-keys", json={"name": "k", "scopes": ["tasks:read"]}, headers=alice.headers
        ),
        201,
    )

    response = await client.post(
        TODOIST, content=rows("task,One"), headers={"X-API-Key": created["key"], **CSV}
    )

    assert_problem(response, 403, "insufficient-scope")
