"""Projects over HTTP: the Inbox, sections, sharing, ownership, limits and the trash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskwell import maintenance
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

API = "/api/v1"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _project(client: httpx.AsyncClient, who: Account, name: str = "Work") -> dict[str, Any]:
    body: dict[str, Any] = await _ok(
        await client.post(f"{API}/projects", json={"name": name}, headers=who.headers), 201
    )
    return body


async def _me(client: httpx.AsyncClient, who: Account) -> str:
    return str((await _ok(await client.get(f"{API}/users/me", headers=who.headers)))["id"])


async def test_every_account_starts_with_an_inbox_that_new_tasks_go_to(
    client: httpx.AsyncClient, alice: Account
) -> None:
    listed = (await _ok(await client.get(f"{API}/projects", headers=alice.headers)))["items"]
    assert [(p["name"], p["is_inbox"], p["role"]) for p in listed] == [("Inbox", True, "owner")]
    task = await _ok(
        await client.post(f"{API}/tasks", json={"title": "t"}, headers=alice.headers), 201
    )
    assert task["project_id"] == listed[0]["id"]
    assert task["created_by"] == await _me(client, alice)


async def test_the_inbox_cannot_be_renamed_archived_deleted_or_shared(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    inbox = (await _ok(await client.get(f"{API}/projects", headers=alice.headers)))["items"][0]
    url = f"{API}/projects/{inbox['id']}"
    for patch in ({"name": "Mine"}, {"archived": True}):
        assert_problem(
            await client.patch(url, json=patch, headers=alice.headers), 409, "inbox-protected"
        )
    assert_problem(await client.delete(url, headers=alice.headers), 409, "inbox-protected")
    invite = {"email": bob.email, "role": "editor"}
    assert_problem(
        await client.post(f"{url}/members", json=invite, headers=alice.headers),
        409,
        "inbox-not-shareable",
    )
    # Its colour and its place in the sidebar are the owner's to choose.
    changed = await _ok(
        await client.patch(url, json={"color": "#AA00ff", "position": 9}, headers=alice.headers)
    )
    assert changed["color"] == "#aa00ff"
    assert changed["position"] == 9.0


async def test_projects_are_listed_inbox_first_then_in_each_members_own_order(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    a = await _project(client, alice, "A")
    b = await _project(client, alice, "B")
    await _ok(
        await client.post(
            f"{API}/projects/{a['id']}/members",
            json={"email": bob.email, "role": "viewer"},
            headers=alice.headers,
        ),
        201,
    )
    await _ok(
        await client.patch(
            f"{API}/projects/{b['id']}", json={"position": 0.5}, headers=alice.headers
        )
    )
    names = [
        p["name"]
        for p in (await _ok(await client.get(f"{API}/projects", headers=alice.headers)))["items"]
    ]
    assert names == ["Inbox", "B", "A"]
    bobs = (await _ok(await client.get(f"{API}/projects", headers=bob.headers)))["items"]
    assert [(p["name"], p["role"], p["member_count"]) for p in bobs] == [
        ("Inbox", "owner", 1),
        ("A", "viewer", 2),
    ]


async def test_archived_projects_leave_the_lists_and_come_back(
    client: httpx.AsyncClient, alice: Account
) -> None:
    project = await _project(client, alice)
    task = await _ok(
        await client.post(
            f"{API}/tasks", json={"title": "t", "project_id": project["id"]}, headers=alice.headers
        ),
        201,
    )
    await _ok(
        await client.patch(
            f"{API}/projects/{project['id']}", json={"archived": True}, headers=alice.headers
        )
    )
    listed = await _ok(await client.get(f"{API}/tasks", headers=alice.headers))
    assert task["id"] not in {t["id"] for t in listed["items"]}
    archived = await _ok(await client.get(f"{API}/projects?archived=true", headers=alice.headers))
    assert [p["id"] for p in archived["items"]] == [project["id"]]
    # Named explicitly, an archived project's tasks are still listed.
    explicit = await _ok(
        await client.get(
            f"{API}/tasks", params={"project_id": project["id"]}, headers=alice.headers
        )
    )
    assert [t["id"] for t in explicit["items"]] == [task["id"]]
    await _ok(
        await client.patch(
            f"{API}/projects/{project['id']}", json={"archived": False}, headers=alice.headers
        )
    )
    listed = await _ok(await client.get(f"{API}/tasks", headers=alice.headers))
    assert task["id"] in {t["id"] for t in listed["items"]}


async def test_project_bodies_are_validated(client: httpx.AsyncClient, alice: Account) -> None:
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 121},
        {"name": "a", "color": "red"},
        {"name": "a", "extra": 1},
        {"name": "a", "position": "1"},
    ):
        assert_problem(
            await client.post(f"{API}/projects", json=body, headers=alice.headers),
            422,
            "validation-error",
        )
    project = await _project(client, alice)
    for patch in ({"name": None}, {"archived": None}, {"color": "#12345"}):
        assert_problem(
            await client.patch(
                f"{API}/projects/{project['id']}", json=patch, headers=alice.headers
            ),
            422,
            "validation-error",
        )


async def test_a_stale_if_match_on_a_project_changes_nothing(
    client: httpx.AsyncClient, alice: Account
) -> None:
    project = await _project(client, alice)
    url = f"{API}/projects/{project['id']}"
    await _ok(await client.patch(url, json={"name": "new"}, headers=alice.headers))
    stale = {**alice.headers, "If-Match": '"v1"'}
    body = assert_problem(
        await client.patch(url, json={"name": "x"}, headers=stale), 412, "version-mismatch"
    )
    assert body["current_version"] == 2
    assert_problem(await client.delete(url, headers=stale), 412, "version-mismatch")
    assert (await _ok(await client.get(url, headers=alice.headers)))["name"] == "new"


async def test_sections_order_tasks_and_deleting_one_keeps_its_tasks(
    client: httpx.AsyncClient, alice: Account
) -> None:
    project = await _project(client, alice)
    base = f"{API}/projects/{project['id']}/sections"
    doing = await _ok(await client.post(base, json={"name": "Doing"}, headers=alice.headers), 201)
    todo = await _ok(
        await client.post(base, json={"name": "To do", "position": 1}, headers=alice.headers), 201
    )
    names = [s["name"] for s in (await _ok(await client.get(base, headers=alice.headers)))["items"]]
    assert names == ["To do", "Doing"]
    task = await _ok(
        await client.post(
            f"{API}/tasks",
            json={"title": "t", "project_id": project["id"], "section_id": doing["id"]},
            headers=alice.headers,
        ),
        201,
    )
    in_section = await _ok(
        await client.get(f"{API}/tasks", params={"section_id": doing["id"]}, headers=alice.headers)
    )
    assert [t["id"] for t in in_section["items"]] == [task["id"]]
    assert (await client.delete(f"{base}/{doing['id']}", headers=alice.headers)).status_code == 204
    after = await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers))
    assert after["section_id"] is None
    assert after["project_id"] == project["id"]
    assert after["version"] == task["version"] + 1
    assert_problem(
        await client.patch(f"{base}/{doing['id']}", json={"name": "x"}, headers=alice.headers),
        404,
        "section-not-found",
    )
    assert todo["project_id"] == project["id"]


async def test_inviting_needs_an_existing_account_once(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await _project(client, alice)
    url = f"{API}/projects/{project['id']}/members"
    assert_problem(
        await client.post(
            url, json={"email": "nobody@example.com", "role": "editor"}, headers=alice.headers
        ),
        404,
        "user-not-found",
    )
    assert_problem(
        await client.post(url, json={"email": bob.email, "role": "owner"}, headers=alice.headers),
        422,
        "validation-error",
    )
    member = await _ok(
        await client.post(
            url, json={"email": bob.email.upper(), "role": "editor"}, headers=alice.headers
        ),
        201,
    )
    assert member["email"] == bob.email
    assert member["role"] == "editor"
    assert_problem(
        await client.post(url, json={"email": bob.email, "role": "viewer"}, headers=alice.headers),
        409,
        "member-exists",
    )
    members = (await _ok(await client.get(url, headers=bob.headers)))["items"]
    assert [(m["email"], m["role"]) for m in members] == [
        (alice.email, "owner"),
        (bob.email, "editor"),
    ]


async def test_transfer_makes_a_new_owner_and_the_old_one_an_editor(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await _project(client, alice)
    base = f"{API}/projects/{project['id']}"
    bob_id = await _me(client, bob)
    assert_problem(
        await client.post(f"{base}/transfer", json={"user_id": bob_id}, headers=alice.headers),
        404,
        "member-not-found",
    )
    await _ok(
        await client.post(
            f"{base}/members", json={"email": bob.email, "role": "viewer"}, headers=alice.headers
        ),
        201,
    )
    moved = await _ok(
        await client.post(f"{base}/transfer", json={"user_id": bob_id}, headers=alice.headers)
    )
    assert moved["role"] == "editor"
    assert moved["owner_id"] == bob_id
    # The old owner can now leave; the new one cannot until they transfer again.
    alice_id = await _me(client, alice)
    assert_problem(
        await client.delete(f"{base}/members/{bob_id}", headers=bob.headers),
        409,
        "owner-must-transfer",
    )
    assert_problem(
        await client.patch(
            f"{base}/members/{bob_id}", json={"role": "viewer"}, headers=bob.headers
        ),
        409,
        "owner-must-transfer",
    )
    assert (
        await client.delete(f"{base}/members/{alice_id}", headers=alice.headers)
    ).status_code == 204
    assert_problem(await client.get(base, headers=alice.headers), 404, "project-not-found")


@pytest.mark.parametrize(
    "settings",
    [{"projects_max_per_user": 3, "members_max_per_project": 2, "sections_max_per_project": 1}],
    indirect=True,
)
async def test_limits_are_409s_that_name_the_limit(
    client: httpx.AsyncClient, alice: Account, bob: Account, make_account: Callable[..., Any]
) -> None:
    first = await _project(client, alice, "one")
    await _project(client, alice, "two")  # with the Inbox: three
    assert_problem(
        await client.post(f"{API}/projects", json={"name": "three"}, headers=alice.headers),
        409,
        "project-limit",
    )
    members = f"{API}/projects/{first['id']}/members"
    await _ok(
        await client.post(
            members, json={"email": bob.email, "role": "viewer"}, headers=alice.headers
        ),
        201,
    )
    carol = await make_account("carol@example.com")
    assert_problem(
        await client.post(
            members, json={"email": carol.email, "role": "viewer"}, headers=alice.headers
        ),
        409,
        "member-limit",
    )
    sections = f"{API}/projects/{first['id']}/sections"
    await _ok(await client.post(sections, json={"name": "a"}, headers=alice.headers), 201)
    assert_problem(
        await client.post(sections, json={"name": "b"}, headers=alice.headers), 409, "section-limit"
    )


async def test_trashed_tasks_come_back_with_their_subtasks_and_are_purged_later(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    parent = await _ok(
        await client.post(f"{API}/tasks", json={"title": "p"}, headers=alice.headers), 201
    )
    child = await _ok(
        await client.post(
            f"{API}/tasks", json={"title": "c", "parent_id": parent["id"]}, headers=alice.headers
        ),
        201,
    )
    assert (
        await client.delete(f"{API}/tasks/{parent['id']}", headers=alice.headers)
    ).status_code == 204
    for task in (parent, child):
        assert_problem(
            await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers),
            404,
            "task-not-found",
        )
    trash = await _ok(await client.get(f"{API}/trash", headers=alice.headers))
    assert {t["id"] for t in trash["tasks"]} == {parent["id"], child["id"]}
    assert all(t["purge_at"] > t["deleted_at"] for t in trash["tasks"])
    restored = await _ok(
        await client.post(f"{API}/tasks/{parent['id']}/restore", headers=alice.headers)
    )
    assert restored["id"] == parent["id"]
    child_back = await _ok(await client.get(f"{API}/tasks/{child['id']}", headers=alice.headers))
    assert child_back["parent_id"] == parent["id"]
    assert_problem(
        await client.post(f"{API}/tasks/{parent['id']}/restore", headers=alice.headers),
        404,
        "task-not-found",
    )
    # Trashed again, then past the retention period: maintenance purges it for good.
    assert (
        await client.delete(f"{API}/tasks/{parent['id']}", headers=alice.headers)
    ).status_code == 204
    ctx = app.state.context
    assert await ctx.tasks.purge_trash(utcnow()) == 0
    later = utcnow() + timedelta(days=ctx.settings.trash_retention_days, seconds=1)
    assert await ctx.tasks.purge_trash(later) >= 1
    assert (await _ok(await client.get(f"{API}/trash", headers=alice.headers)))["tasks"] == []
    done = await maintenance.run_once(ctx)
    assert done["trashed_tasks"] == 0


async def test_trashed_projects_are_listed_for_their_owner_and_purged_later(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    project = await _project(client, alice)
    assert (
        await client.delete(f"{API}/projects/{project['id']}", headers=alice.headers)
    ).status_code == 204
    trash = await _ok(await client.get(f"{API}/trash", headers=alice.headers))
    assert [p["id"] for p in trash["projects"]] == [project["id"]]
    ctx = app.state.context
    later = utcnow() + timedelta(days=ctx.settings.trash_retention_days, seconds=1)
    assert await ctx.projects.purge_trash(later) == 1
    assert_problem(
        await client.post(f"{API}/projects/{project['id']}/restore", headers=alice.headers),
        404,
        "project-not-found",
    )
