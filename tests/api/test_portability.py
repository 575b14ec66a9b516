"""Import and export over HTTP: the JSON document and the tasks CSV hold what the user sees and
nothing else; an import makes only new things of the importer's, all or nothing; a round trip
keeps the structure with new ids."""

from __future__ import annotations

import copy
import csv
import io
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.portability import exporter, repository
from taskwell.projects.models import projects
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.portability import (
    API,
    EXPORT,
    EXPORT_CSV,
    IMPORT,
    build_world,
    ids_in,
    ok,
    shape,
)
from tests.support.sharing import PROJECTS, TASKS, make_project, make_task, user_id

JSON = {"content-type": "application/json"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    """The cheapest password hash (these tests make many users), plus any overrides a test
    passes with `@pytest.mark.parametrize("settings", [{...}], indirect=True)`."""
    overrides: dict[str, Any] = {
        "rate_limit_portability": "1000/hour",
        **getattr(request, "param", {}),
    }
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


@pytest.fixture
async def carol(make_account: Callable[..., Any]) -> Account:
    account: Account = await make_account("carol@example.com")
    return account


async def export(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    document: dict[str, Any] = await ok(await client.get(EXPORT, headers=account.headers))
    return document


async def import_document(
    client: httpx.AsyncClient, account: Account, document: dict[str, Any]
) -> httpx.Response:
    return await client.post(IMPORT, json=document, headers=account.headers)


def minimal(**parts: Any) -> dict[str, Any]:
    project = str(uuid.uuid4())
    document: dict[str, Any] = {
        "format": "taskwell-export",
        "version": 1,
        "projects": [{"id": project, "name": "Moved in"}],
        "tasks": [{"id": str(uuid.uuid4()), "project_id": project, "title": "First"}],
    }
    document.update(parts)
    return document


# --- export -------------------------------------------------------------------------------


async def test_export_is_a_versioned_json_attachment(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    world = await build_world(client, alice, bob)

    response = await client.get(EXPORT, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="taskwell-export-')
    assert disposition.endswith('.json"')
    document = response.json()
    assert document["format"] == "taskwell-export"
    assert document["version"] == 1
    assert document["user"]["email"] == alice.email
    assert document["user"]["id"] == await user_id(client, alice)
    assert next(p["name"] for p in document["projects"]) == "Inbox"
    garden = next(p for p in document["projects"] if p["name"] == "Garden")
    assert [s["name"] for s in garden["sections"]] == ["Beds", "Tools"]
    assert garden["role"] == "owner"
    assert garden["color"] == "#aa3300"
    assert next(p for p in document["projects"] if p["name"] == "Old stuff")["archived"] is True
    roses = next(t for t in document["tasks"] if t["title"] == "Plant roses")
    assert roses["section_id"] == world.sections["Beds"]
    assert roses["labels"] == sorted([world.labels["Outdoor"], world.labels["Weekend"]])
    assert roses["due_at"] == "2025-05-01T09:30:00Z"
    spade = next(t for t in document["tasks"] if t["title"] == "Buy a spade")
    assert spade["parent_id"] == world.tasks["Dig holes"]
    mown = next(t for t in document["tasks"] if t["title"] == "Mow the lawn")
    assert mown["status"] == "done"
    assert mown["completed_at"] is not None
    bodies = {c["body"] for c in document["comments"]}
    assert bodies == {
        "Order from the nursery on Elm Street",
        "Done half of them",
        "Bring nails",
        "Will do on Saturday",
    }


async def test_export_holds_only_what_the_user_sees(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    world = await build_world(client, alice, bob)

    document = await export(client, alice)

    assert not ids_in(document) & world.hidden
    names = {p["name"] for p in document["projects"]}
    assert names == {"Inbox", "Garden", "Old stuff", "Shared"}
    shared = next(p for p in document["projects"] if p["name"] == "Shared")
    assert shared["role"] == "editor"
    assert {m["email"] for m in shared["members"]} == {alice.email, bob.email}
    # Only alice's labels, on the tasks and in the list.
    assert {label["name"] for label in document["labels"]} == {"Outdoor", "Weekend"}
    fence = next(t for t in document["tasks"] if t["title"] == "Fix the fence")
    assert fence["labels"] == [world.labels["Outdoor"]]
    # Bob's export has his side of the same task.
    bobs = await export(client, bob)
    bobs_fence = next(t for t in bobs["tasks"] if t["title"] == "Fix the fence")
    assert bobs_fence["labels"] == [world.labels["Bob's own"]]
    assert "Garden" not in {p["name"] for p in bobs["projects"]}


async def test_a_large_export_is_read_in_pages_and_streamed_from_a_file(
    client: httpx.AsyncClient, alice: Account, bob: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    await build_world(client, alice, bob)
    in_memory = await export(client, alice)
    monkeypatch.setattr(exporter, "SPOOL_MEMORY_BYTES", 64)
    # Pages of two: every page boundary of tasks and comments is crossed.
    monkeypatch.setattr(exporter, "BATCH", 2)
    monkeypatch.setattr(repository, "BATCH", 2)

    response = await client.get(EXPORT, headers=alice.headers)

    assert response.status_code == 200
    assert int(response.headers["content-length"]) == len(response.content)
    streamed = response.json()
    assert shape(streamed) == shape(in_memory)


@pytest.mark.parametrize("settings", [{"export_max_tasks": 2}], indirect=True)
async def test_an_export_over_the_limit_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for title in ("one", "two", "three"):
        await ok(await client.post(TASKS, json={"title": title}, headers=alice.headers), 201)

    for url in (EXPORT, EXPORT_CSV):
        assert_problem(await client.get(url, headers=alice.headers), 409, "export-too-large")


async def test_export_and_import_need_their_scopes(
    client: httpx.AsyncClient, alice: Account
) -> None:
    async def key(scopes: list[str]) -> dict[str, str]:
        created = await ok(
            await client.post(
                f"{API}/api-keys", json={"name": "k", "scopes": scopes}, headers=alice.headers
            ),
            201,
        )
        return {"X-API-Key": created["key"]}

    reader, writer = await key(["tasks:read"]), await key(["tasks:write"])

    assert (await client.get(EXPORT, headers=reader)).status_code == 200
    assert (await client.get(EXPORT_CSV, headers=reader)).status_code == 200
    assert_problem(await client.get(EXPORT, headers=writer), 403, "insufficient-scope")
    response = await client.post(IMPORT, json=minimal(), headers=reader)
    assert_problem(response, 403, "insufficient-scope")
    assert (await client.post(IMPORT, json=minimal(), headers=writer)).status_code == 201
    assert_problem(await client.get(EXPORT), 401)
    assert_problem(await client.post(IMPORT, json=minimal()), 401)


@pytest.mark.parametrize("settings", [{"rate_limit_portability": "2/hour"}], indirect=True)
async def test_imports_and_exports_share_a_rate_limit_per_user(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    assert (await client.get(EXPORT, headers=alice.headers)).status_code == 200
    assert (await client.post(IMPORT, json=minimal(), headers=alice.headers)).status_code == 201

    refused = await client.get(EXPORT_CSV, headers=alice.headers)

    assert_problem(refused, 429)
    assert "retry-after" in refused.headers
    assert (await client.get(EXPORT, headers=bob.headers)).status_code == 200


# --- CSV ----------------------------------------------------------------------------------


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith("\ufeff".encode())
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"), newline="")))


async def test_csv_export_has_a_row_per_task_with_names(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    world = await build_world(client, alice, bob)

    response = await client.get(EXPORT_CSV, headers=alice.headers)

    assert response.headers["content-disposition"].endswith('.csv"')
    rows = read_csv(response)
    assert list(rows[0]) == [
        "id",
        "project",
        "section",
        "parent_id",
        "title",
        "description",
        "status",
        "priority",
        "due_at",
        "due_date",
        "start_date",
        "recurrence",
        "completed_at",
        "labels",
        "assignee_email",
        "created_at",
        "updated_at",
    ]
    by_title = {row["title"]: row for row in rows}
    assert set(by_title) == {
        "Call the plumber",
        "Plant roses",
        "Dig holes",
        "Buy a spade",
        "Mow the lawn",
        "Forgotten chore",
        "Fix the fence",
        "Paint the shed",
        "Water the plants",
        "Call the bank",
    }
    assert len(rows) == 11
    series = sorted(
        (row["due_date"], row["status"]) for row in rows if row["title"] == "Water the plants"
    )
    assert series == [("2025-05-01", "done"), ("2025-05-08", "todo")]
    water = next(row for row in rows if row["due_date"] == "2025-05-08")
    assert water["recurrence"] == "FREQ=WEEKLY"
    assert water["due_at"] == "2025-05-08T00:00:00Z"
    assert by_title["Call the bank"]["due_date"] == ""
    roses = by_title["Plant roses"]
    assert roses["id"] == world.tasks["Plant roses"]
    assert (roses["project"], roses["section"]) == ("Garden", "Beds")
    assert roses["labels"] == "Outdoor,Weekend"
    assert roses["due_at"] == "2025-05-01T09:30:00Z"
    assert roses["description"] == "Red ones *and* white ones"
    assert by_title["Dig holes"]["parent_id"] == world.tasks["Plant roses"]
    assert by_title["Buy a spade"]["priority"] == "4"
    assert by_title["Fix the fence"]["assignee_email"] == alice.email
    assert by_title["Fix the fence"]["labels"] == "Outdoor"
    assert by_title["Paint the shed"]["assignee_email"] == bob.email
    assert by_title["Mow the lawn"]["status"] == "done"
    assert by_title["Mow the lawn"]["completed_at"].endswith("Z")


@pytest.mark.parametrize(
    "text", ['=HYPERLINK("http://x")', "+1+2", "-3", "@SUM(A1)", "\tcmd", "\rcmd"]
)
async def test_csv_cells_a_spreadsheet_would_run_start_with_a_quote(
    client: httpx.AsyncClient, alice: Account, text: str
) -> None:
    await ok(
        await client.post(
            TASKS, json={"title": f"{text} title", "description": text}, headers=alice.headers
        ),
        201,
    )

    row = read_csv(await client.get(EXPORT_CSV, headers=alice.headers))[0]

    assert row["title"] == f"'{text} title"
    assert row["description"] == f"'{text}"


async def test_csv_leaves_ordinary_cells_alone(client: httpx.AsyncClient, alice: Account) -> None:
    title = 'Say "hi", then\nleave = done'
    await ok(await client.post(TASKS, json={"title": title}, headers=alice.headers), 201)

    row = read_csv(await client.get(EXPORT_CSV, headers=alice.headers))[0]

    assert row["title"] == title
    assert row["project"] == "Inbox"
    assert row["section"] == ""
    assert row["labels"] == ""


# --- round trip ---------------------------------------------------------------------------


async def test_a_round_trip_keeps_the_structure_with_new_ids(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account
) -> None:
    await build_world(client, alice, bob)
    first = await export(client, alice)

    result = await ok(await import_document(client, carol, first), 201)
    second = await export(client, carol)

    assert {k: v for k, v in result.items() if k != "project_ids"} == {
        "projects": 3,  # Garden, Old stuff, Shared; the Inbox's task went into carol's Inbox
        "sections": 2,
        "tasks": 11,
        "labels": 2,
        "comments": 4,
        "reminders": 2,
    }
    assert not ids_in(first) & ids_in(second)
    expected = shape(first)
    # Bob's comment is carol's now, and says whose it was.
    expected["comments"] = sorted(
        (
            (task, body if mine else f"*Originally written by {bob.email}.*\n\n{body}", True, at)
            for task, body, mine, at in expected["comments"]
        ),
        key=repr,
    )
    # The task assigned to bob has no assignee in carol's copy; the one assigned to alice is
    # carol's.
    assert shape(second) == expected
    assert {p["role"] for p in second["projects"]} == {"owner"}
    assert {m["email"] for p in second["projects"] for m in p["members"]} == {carol.email}


async def test_importing_twice_makes_two_copies_and_reuses_labels(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account
) -> None:
    await build_world(client, alice, bob)
    document = await export(client, alice)

    await ok(await import_document(client, carol, document), 201)
    again = await ok(await import_document(client, carol, document), 201)

    assert again["labels"] == 0
    second = await export(client, carol)
    assert len(second["labels"]) == 2
    assert [p["name"] for p in second["projects"]].count("Garden") == 2
    assert len(second["tasks"]) == 22


async def test_the_inbox_goes_into_the_importers_inbox_after_its_tasks(
    client: httpx.AsyncClient, alice: Account, carol: Account
) -> None:
    await make_task(client, alice, (await export(client, alice))["projects"][0]["id"], "Alice's")
    await ok(
        await client.post(f"{API}/labels", json={"name": "URGENT"}, headers=carol.headers), 201
    )
    own = await ok(await client.post(TASKS, json={"title": "Carol's"}, headers=carol.headers), 201)
    document = await export(client, alice)
    document["labels"] = [{"id": str(uuid.uuid4()), "name": "urgent", "color": "#ff0000"}]
    document["tasks"][0]["labels"] = [document["labels"][0]["id"]]

    result = await ok(await import_document(client, carol, document), 201)

    assert result["projects"] == 0
    assert result["project_ids"] == []
    assert result["labels"] == 0  # carol's URGENT is reused
    inbox = await ok(
        await client.get(
            TASKS,
            params={"project_id": own["project_id"], "sort": "position"},
            headers=carol.headers,
        )
    )
    assert [t["title"] for t in inbox["items"]] == ["Carol's", "Alice's"]
    labels = await ok(await client.get(f"{API}/labels", headers=carol.headers))
    assert [label["name"] for label in labels["items"]] == ["URGENT"]
    assert inbox["items"][1]["labels"] == [labels["items"][0]["id"]]


async def test_an_imported_task_records_where_it_came_from(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await ok(await import_document(client, alice, minimal()), 201)
    task = (await ok(await client.get(TASKS, headers=alice.headers)))["items"][0]

    activity = await ok(await client.get(f"{TASKS}/{task['id']}/activity", headers=alice.headers))

    [entry] = activity["items"]
    assert entry["action"] == "created"
    assert entry["changes"]["source"] == [None, "taskwell-export"]
    assert task["created_by"] == await user_id(client, alice)


# --- invalid documents --------------------------------------------------------------------


async def test_an_invalid_document_changes_nothing_and_names_the_path(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account
) -> None:
    await build_world(client, alice, bob)
    document = await export(client, alice)
    document["tasks"][3]["title"] = " "
    document["tasks"][5]["priority"] = 9
    document["labels"][1]["name"] = "a,b"
    before = await export(client, carol)

    body = assert_problem(await import_document(client, carol, document), 422, "validation-error")

    fields = {error["field"] for error in body["errors"]}
    assert fields == {"tasks[3].title", "tasks[5].priority", "labels[1].name"}
    assert all(error["in"] == "body" for error in body["errors"])
    assert shape(await export(client, carol)) == shape(before)


def _with_task(document: dict[str, Any], **fields: Any) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["tasks"].append(
        {"id": str(uuid.uuid4()), "project_id": changed["projects"][0]["id"], "title": "x"} | fields
    )
    return changed


async def test_references_that_do_not_hold_are_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    base = minimal()
    other = str(uuid.uuid4())
    base["projects"].append(
        {"id": other, "name": "Other", "sections": [{"id": str(uuid.uuid4()), "name": "S"}]}
    )
    first = base["tasks"][0]["id"]
    cases = {
        "tasks[1].project_id": _with_task(base, project_id=str(uuid.uuid4())),
        "tasks[1].section_id": _with_task(
            base, section_id=base["projects"][1]["sections"][0]["id"]
        ),
        "tasks[1].parent_id": _with_task(base, project_id=other, parent_id=first),
        "tasks[1].labels[0]": _with_task(base, labels=[str(uuid.uuid4())]),
        "tasks[1].id": _with_task(base, id=first),
        "comments[0].task_id": base | {"comments": [{"task_id": str(uuid.uuid4()), "body": "b"}]},
        "projects[1].is_inbox": base
        | {"projects": [p | {"is_inbox": True} for p in base["projects"]]},
        "version": base | {"version": 2},
        "format": base | {"format": "todoist"},
        "tasks[0].status": base | {"tasks": [base["tasks"][0] | {"status": "waiting"}]},
        "projects[0].color": base | {"projects": [base["projects"][0] | {"color": "red"}]},
        "tasks[0].due_at": base | {"tasks": [base["tasks"][0] | {"due_at": 0}]},
        "projects[0].archived": base | {"projects": [base["projects"][0] | {"archived": "yes"}]},
        "tasks[0].surprise": base | {"tasks": [base["tasks"][0] | {"surprise": 1}]},
    }

    for field, document in cases.items():
        body = assert_problem(await import_document(client, alice, document), 422)
        assert [error["field"] for error in body["errors"]] == [field], (field, body)
    assert (await ok(await client.get(TASKS, headers=alice.headers)))["items"] == []


async def test_subtasks_deeper_than_five_levels_or_in_a_cycle_are_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    document = minimal()
    project = document["projects"][0]["id"]
    chain = [str(uuid.uuid4()) for _ in range(7)]
    document["tasks"] = [
        {"id": task, "project_id": project, "title": f"level {i}", "parent_id": parent}
        for i, (task, parent) in enumerate(zip(chain, [None, *chain[:-1]], strict=True))
    ]
    body = assert_problem(await import_document(client, alice, document), 422)
    assert [error["field"] for error in body["errors"]] == ["tasks[6].parent_id"]
    assert body["errors"][0]["code"] == "depth"

    ok_depth = copy.deepcopy(document)
    ok_depth["tasks"] = ok_depth["tasks"][:6]
    ok_depth["tasks"].reverse()  # children before parents in the file
    assert (await import_document(client, alice, ok_depth)).status_code == 201

    cycle = copy.deepcopy(document)
    cycle["tasks"] = cycle["tasks"][:2]
    cycle["tasks"][0]["parent_id"] = chain[1]
    body = assert_problem(await import_document(client, alice, cycle), 422)
    assert {error["code"] for error in body["errors"]} == {"depth"}


async def test_a_body_that_is_not_a_json_document_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    malformed = await client.post(IMPORT, content=b"{", headers={**alice.headers, **JSON})
    assert_problem(malformed, 400, "malformed-body")
    as_text = await client.post(
        IMPORT, content=b"{}", headers={**alice.headers, "content-type": "text/plain"}
    )
    assert_problem(as_text, 415, "unsupported-media-type")
    not_an_object = await client.post(IMPORT, json=[1, 2], headers=alice.headers)
    assert_problem(not_an_object, 422, "validation-error")


# --- limits -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "settings", [{"import_max_tasks": 2, "import_max_comments": 1}], indirect=True
)
async def test_an_import_over_the_task_or_comment_limit_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    document = minimal()
    project = document["projects"][0]["id"]
    document["tasks"] += [
        {"id": str(uuid.uuid4()), "project_id": project, "title": "more"} for _ in range(2)
    ]
    task = document["tasks"][0]["id"]
    document["comments"] = [{"task_id": task, "body": "one"}, {"task_id": task, "body": "two"}]

    body = assert_problem(await import_document(client, alice, document), 422)

    assert [error["field"] for error in body["errors"]] == ["tasks", "comments"]


@pytest.mark.parametrize("settings", [{"import_max_bytes": 4_096}], indirect=True)
async def test_an_import_body_over_its_cap_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    document = minimal()
    document["tasks"][0]["description"] = "x" * 5_000

    assert_problem(await import_document(client, alice, document), 413, "payload-too-large")


async def test_the_import_takes_more_tasks_than_other_bodies_take_items(
    client: httpx.AsyncClient, alice: Account, settings: Settings
) -> None:
    document = minimal()
    project = document["projects"][0]["id"]
    document["tasks"] = [
        {"id": str(uuid.uuid4()), "project_id": project, "title": f"task {i}"}
        for i in range(settings.max_json_items + 200)
    ]

    result = await ok(await import_document(client, alice, document), 201)

    assert result["tasks"] == settings.max_json_items + 200
    # Other routes keep their cap.
    too_many = {"name": "x", "scopes": ["tasks:read"] * (settings.max_json_items + 1)}
    response = await client.post(f"{API}/api-keys", json=too_many, headers=alice.headers)
    assert_problem(response, 422, "json-too-complex")


@pytest.mark.parametrize(
    "settings", [{"projects_max_per_user": 3, "labels_max_per_user": 2}], indirect=True
)
async def test_project_and_label_limits_apply_to_imports(
    client: httpx.AsyncClient, alice: Account
) -> None:
    three = minimal()
    three["projects"] += [{"id": str(uuid.uuid4()), "name": n} for n in ("Two", "Three")]
    assert_problem(await import_document(client, alice, three), 409, "project-limit")

    labelled = minimal(labels=[{"id": str(uuid.uuid4()), "name": name} for name in ("a", "b", "c")])
    assert_problem(await import_document(client, alice, labelled), 409, "label-limit")
    # Names that differ only in case are one label.
    labelled["labels"][2]["name"] = "B"
    assert (await import_document(client, alice, labelled)).status_code == 201


@pytest.mark.parametrize("settings", [{"sections_max_per_project": 1}], indirect=True)
async def test_the_section_limit_applies_to_imports(
    client: httpx.AsyncClient, alice: Account
) -> None:
    document = minimal()
    document["projects"][0]["sections"] = [
        {"id": str(uuid.uuid4()), "name": name} for name in ("A", "B")
    ]

    assert_problem(await import_document(client, alice, document), 409, "section-limit")


async def test_import_never_touches_existing_projects(
    client: httpx.AsyncClient, app: FastAPI, alice: Account, bob: Account
) -> None:
    bobs = await make_project(client, bob, [(alice, "editor")])
    document = minimal()
    # A document naming bob's project's id makes a new project; bob's stays as it was.
    document["projects"][0]["id"] = bobs
    document["tasks"][0]["project_id"] = bobs

    result = await ok(await import_document(client, alice, document), 201)

    assert result["project_ids"][0] != bobs
    listed = await ok(await client.get(TASKS, params={"project_id": bobs}, headers=bob.headers))
    assert listed["items"] == []
    projects = await ok(await client.get(PROJECTS, headers=bob.headers))
    assert "Moved in" not in {p["name"] for p in projects["items"]}


async def test_time_fields_and_reminders_are_checked_as_the_api_checks_them(
    client: httpx.AsyncClient, alice: Account
) -> None:
    base = minimal()
    task = base["tasks"][0]
    reminder = {"task_id": task["id"], "remind_at": "2025-01-01T08:00:00Z"}
    cases = {
        "tasks[0].due_date": {"due_date": "2025-01-02", "due_at": "2025-01-02T09:00:00Z"},
        "tasks[0].due_timezone": {"due_date": "2025-01-02", "due_timezone": "Europe/Berlin"},
        "tasks[0].recurrence": {"recurrence": "FREQ=DAILY"},
    }
    for field, fields in cases.items():
        document = base | {"tasks": [task | fields]}
        body = assert_problem(await import_document(client, alice, document), 422)
        assert [e["field"] for e in body["errors"]] == [field], body
    for field, fields in {
        "tasks[0].due_timezone": {"due_timezone": "Mars/Olympus"},
        "tasks[0].recurrence": {"due_date": "2025-01-02", "recurrence": "FREQ=SOMETIMES"},
        "tasks[0].due_date": {"due_date": "2025-13-01"},
    }.items():
        document = base | {"tasks": [task | fields]}
        body = assert_problem(await import_document(client, alice, document), 422)
        assert [e["field"] for e in body["errors"]] == [field], body
    reminder_cases = {
        "reminders[0].task_id": [reminder | {"task_id": str(uuid.uuid4())}],
        "reminders[0].minutes_before": [reminder | {"minutes_before": 10}],
        "reminders[10]": [reminder] * 11,
        "reminders[0].remind_at": [{"task_id": task["id"]}],
    }
    for field, reminders in reminder_cases.items():
        body = assert_problem(
            await import_document(client, alice, base | {"reminders": reminders}), 422
        )
        assert [e["field"] for e in body["errors"]] == [field], body
    # An hour before a due ten minutes into year 1 is no time at all (not a 500).
    early = base | {
        "tasks": [task | {"due_at": "0001-01-01T00:10:00Z"}],
        "reminders": [reminder | {"minutes_before": 60}],
    }
    body = assert_problem(await import_document(client, alice, early), 422)
    assert [e["field"] for e in body["errors"]] == ["reminders[0].minutes_before"]
    assert (await ok(await client.get(TASKS, headers=alice.headers)))["items"] == []


async def test_an_imported_due_keeps_its_zone_or_takes_the_importers(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await ok(
        await client.patch(
            f"{API}/users/me", json={"time_zone": "America/New_York"}, headers=alice.headers
        )
    )
    document = minimal()
    first = document["tasks"][0]
    first |= {"due_at": "2025-03-01T15:00:00Z", "recurrence": "FREQ=DAILY"}
    document["tasks"].append(
        first
        | {
            "id": str(uuid.uuid4()),
            "title": "Second",
            "due_timezone": "Asia/Tokyo",
            # A next occurrence outside the document (in the trash, say) is dropped.
            "next_occurrence_id": str(uuid.uuid4()),
        }
    )
    document["reminders"] = [
        {"task_id": first["id"], "remind_at": "2000-01-01T00:00:00Z", "minutes_before": 60},
        {
            "task_id": first["id"],
            "remind_at": "2025-02-28T09:00:00Z",
            "delivered_at": "2025-02-28T09:00:05Z",
        },
    ]

    await ok(await import_document(client, alice, document), 201)

    tasks = {
        t["title"]: t for t in (await ok(await client.get(TASKS, headers=alice.headers)))["items"]
    }
    assert tasks["First"]["due_timezone"] == "America/New_York"
    assert tasks["Second"]["due_timezone"] == "Asia/Tokyo"
    assert tasks["Second"]["next_occurrence_id"] is None
    exported = await export(client, alice)
    reminders = sorted(
        (r["remind_at"], r["minutes_before"], r["delivered_at"]) for r in exported["reminders"]
    )
    assert reminders == [
        ("2025-02-28T09:00:00Z", None, "2025-02-28T09:00:05Z"),
        ("2025-03-01T14:00:00Z", 60, None),  # an hour before the due, not as written
    ]


async def test_an_account_without_an_inbox_gets_the_inbox_as_a_project(
    client: httpx.AsyncClient, app: FastAPI, alice: Account, carol: Account
) -> None:
    await make_task(client, alice, (await export(client, alice))["projects"][0]["id"], "Mine")
    document = await export(client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(sa.delete(projects).where(projects.c.is_inbox))

    result = await ok(await import_document(client, carol, document), 201)

    assert result["projects"] == 1
    [project] = (await ok(await client.get(PROJECTS, headers=carol.headers)))["items"]
    assert project["name"] == "Inbox"
    assert project["is_inbox"] is False


async def test_a_device_syncing_sees_everything_an_import_made(
    client: httpx.AsyncClient, alice: Account, bob: Account, carol: Account
) -> None:
    await build_world(client, alice, bob)
    document = await export(client, alice)
    token = (await ok(await client.get(f"{API}/sync", headers=carol.headers)))["token"]

    await ok(await import_document(client, carol, document), 201)

    seen: dict[str, set[str]] = {}
    has_more = True
    while has_more:
        body = await ok(
            await client.get(f"{API}/sync", params={"since": token}, headers=carol.headers)
        )
        for change in body["changes"]:
            assert change["op"] == "upsert"
            seen.setdefault(change["entity"], set()).add(change["id"])
        token, has_more = body["token"], body["has_more"]
    mine = await export(client, carol)
    assert seen["project"] == {p["id"] for p in mine["projects"] if not p["is_inbox"]}
    assert seen["section"] == {s["id"] for p in mine["projects"] for s in p["sections"]}
    assert seen["label"] == {label["id"] for label in mine["labels"]}
    assert seen["task"] == {t["id"] for t in mine["tasks"]}
    assert seen["comment"] == {c["id"] for c in mine["comments"]}
