"""Object-level access, proven: every role by every operation, on its own project and on a
foreign one, including ids taken from another project and tasks moved between projects.

The world of each test: alice owns project P, shared with bob (editor) and carol (viewer);
dave is a member of nothing of hers. Each of them also owns a private project of their own.
Every operation is tried by each of the four; the expected answer is in one table.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account

API = "/api/v1"
ROLES = ("owner", "editor", "viewer", "outsider")


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


@dataclass
class World:
    client: httpx.AsyncClient
    people: dict[str, Account]
    project: str
    section: str
    task: str
    subtask: str
    comment: str
    # Each person's own private project, with a task and a section in it.
    own_project: dict[str, str]
    own_task: dict[str, str]
    own_section: dict[str, str]


async def _json(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


async def _user_id(client: httpx.AsyncClient, account: Account) -> str:
    me = await _json(await client.get(f"{API}/users/me", headers=account.headers), 200)
    return str(me["id"])


@pytest.fixture
async def world(
    client: httpx.AsyncClient, make_account: Callable[..., Any], database_backend: str
) -> World:
    if database_backend == "pgbouncer":
        # Who may do what is decided in SQL that a pooler does not change; the matrix runs on
        # SQLite and PostgreSQL (the CI time it would take a third time is better spent).
        pytest.skip("the access matrix runs on SQLite and PostgreSQL directly")
    people = {
        "owner": await make_account("alice@example.com"),
        "editor": await make_account("bob@example.com"),
        "viewer": await make_account("carol@example.com"),
        "outsider": await make_account("dave@example.com"),
    }
    for account in people.values():
        account.tokens["user_id"] = await _user_id(client, account)
    alice = people["owner"].headers
    project = await _json(await client.post(f"{API}/projects", json={"name": "P"}, headers=alice))
    pid = project["id"]
    for role, email in (("editor", "bob@example.com"), ("viewer", "carol@example.com")):
        await _json(
            await client.post(
                f"{API}/projects/{pid}/members", json={"email": email, "role": role}, headers=alice
            )
        )
    section = await _json(
        await client.post(f"{API}/projects/{pid}/sections", json={"name": "S"}, headers=alice)
    )
    task = await _json(
        await client.post(f"{API}/tasks", json={"title": "T", "project_id": pid}, headers=alice)
    )
    subtask = await _json(
        await client.post(
            f"{API}/tasks",
            json={"title": "sub", "project_id": pid, "parent_id": task["id"]},
            headers=alice,
        )
    )
    comment = await _json(
        await client.post(f"{API}/tasks/{task['id']}/comments", json={"body": "hi"}, headers=alice)
    )
    own_project, own_task, own_section = {}, {}, {}
    for role, account in people.items():
        own = await _json(
            await client.post(
                f"{API}/projects", json={"name": f"own {role}"}, headers=account.headers
            )
        )
        own_project[role] = own["id"]
        own_task[role] = (
            await _json(
                await client.post(
                    f"{API}/tasks",
                    json={"title": f"{role}'s", "project_id": own["id"]},
                    headers=account.headers,
                )
            )
        )["id"]
        own_section[role] = (
            await _json(
                await client.post(
                    f"{API}/projects/{own['id']}/sections",
                    json={"name": "mine"},
                    headers=account.headers,
                )
            )
        )["id"]
    return World(
        client,
        people,
        pid,
        section["id"],
        task["id"],
        subtask["id"],
        comment["id"],
        own_project,
        own_task,
        own_section,
    )


Op = Callable[[World, str], Awaitable[httpx.Response]]


def _as(w: World, role: str) -> dict[str, str]:
    return w.people[role].headers


async def read_task(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/tasks/{w.task}", headers=_as(w, r))


async def list_project_tasks(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/tasks", params={"project_id": w.project}, headers=_as(w, r))


async def create_task(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/tasks", json={"title": "new", "project_id": w.project}, headers=_as(w, r)
    )


async def update_task(w: World, r: str) -> httpx.Response:
    return await w.client.patch(f"{API}/tasks/{w.task}", json={"title": "x"}, headers=_as(w, r))


async def complete_task(w: World, r: str) -> httpx.Response:
    return await w.client.patch(f"{API}/tasks/{w.task}", json={"status": "done"}, headers=_as(w, r))


async def delete_task(w: World, r: str) -> httpx.Response:
    return await w.client.delete(f"{API}/tasks/{w.subtask}", headers=_as(w, r))


async def move_task_out(w: World, r: str) -> httpx.Response:
    """From P to the actor's own project."""
    return await w.client.patch(
        f"{API}/tasks/{w.task}", json={"project_id": w.own_project[r]}, headers=_as(w, r)
    )


async def move_task_in(w: World, r: str) -> httpx.Response:
    """From the actor's own project into P."""
    return await w.client.patch(
        f"{API}/tasks/{w.own_task[r]}", json={"project_id": w.project}, headers=_as(w, r)
    )


async def assign_task(w: World, r: str) -> httpx.Response:
    editor = w.people["editor"].tokens["user_id"]
    return await w.client.patch(
        f"{API}/tasks/{w.task}", json={"assignee_id": editor}, headers=_as(w, r)
    )


async def read_project(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/projects/{w.project}", headers=_as(w, r))


async def rename_project(w: World, r: str) -> httpx.Response:
    return await w.client.patch(
        f"{API}/projects/{w.project}", json={"name": "renamed"}, headers=_as(w, r)
    )


async def reorder_project(w: World, r: str) -> httpx.Response:
    return await w.client.patch(
        f"{API}/projects/{w.project}", json={"position": 5.0}, headers=_as(w, r)
    )


async def archive_project(w: World, r: str) -> httpx.Response:
    return await w.client.patch(
        f"{API}/projects/{w.project}", json={"archived": True}, headers=_as(w, r)
    )


async def delete_project(w: World, r: str) -> httpx.Response:
    return await w.client.delete(f"{API}/projects/{w.project}", headers=_as(w, r))


async def list_sections(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/projects/{w.project}/sections", headers=_as(w, r))


async def create_section(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/projects/{w.project}/sections", json={"name": "new"}, headers=_as(w, r)
    )


async def rename_section(w: World, r: str) -> httpx.Response:
    return await w.client.patch(
        f"{API}/projects/{w.project}/sections/{w.section}", json={"name": "x"}, headers=_as(w, r)
    )


async def delete_section(w: World, r: str) -> httpx.Response:
    return await w.client.delete(
        f"{API}/projects/{w.project}/sections/{w.section}", headers=_as(w, r)
    )


async def list_members(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/projects/{w.project}/members", headers=_as(w, r))


async def add_member(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/projects/{w.project}/members",
        json={
            "email": "dave@example.com" if r != "outsider" else "carol@example.com",
            "role": "viewer",
        },
        headers=_as(w, r),
    )


async def change_role(w: World, r: str) -> httpx.Response:
    viewer = w.people["viewer"].tokens["user_id"]
    return await w.client.patch(
        f"{API}/projects/{w.project}/members/{viewer}", json={"role": "editor"}, headers=_as(w, r)
    )


async def remove_member(w: World, r: str) -> httpx.Response:
    viewer = w.people["viewer"].tokens["user_id"]
    if r == "viewer":  # removing oneself is leaving, allowed to all: use the editor instead
        viewer = w.people["editor"].tokens["user_id"]
    return await w.client.delete(f"{API}/projects/{w.project}/members/{viewer}", headers=_as(w, r))


async def leave(w: World, r: str) -> httpx.Response:
    me = w.people[r].tokens["user_id"]
    return await w.client.delete(f"{API}/projects/{w.project}/members/{me}", headers=_as(w, r))


async def transfer(w: World, r: str) -> httpx.Response:
    editor = w.people["editor"].tokens["user_id"]
    return await w.client.post(
        f"{API}/projects/{w.project}/transfer", json={"user_id": editor}, headers=_as(w, r)
    )


async def read_comments(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/tasks/{w.task}/comments", headers=_as(w, r))


async def post_comment(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/tasks/{w.task}/comments", json={"body": "mine"}, headers=_as(w, r)
    )


async def edit_owners_comment(w: World, r: str) -> httpx.Response:
    return await w.client.patch(
        f"{API}/tasks/{w.task}/comments/{w.comment}", json={"body": "edited"}, headers=_as(w, r)
    )


async def read_activity(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/tasks/{w.task}/activity", headers=_as(w, r))


async def delete_owners_comment(w: World, r: str) -> httpx.Response:
    return await w.client.delete(f"{API}/tasks/{w.task}/comments/{w.comment}", headers=_as(w, r))


async def set_reminder(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/tasks/{w.task}/reminders",
        json={"remind_at": "2030-01-01T09:00:00Z"},
        headers=_as(w, r),
    )


async def bulk_complete(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/tasks/bulk",
        json={"action": "complete", "items": [{"id": w.task}, {"id": w.subtask}]},
        headers=_as(w, r),
    )


async def bulk_move_in(w: World, r: str) -> httpx.Response:
    return await w.client.post(
        f"{API}/tasks/bulk",
        json={"action": "move", "items": [{"id": w.own_task[r]}], "project_id": w.project},
        headers=_as(w, r),
    )


async def restore_task(w: World, r: str) -> httpx.Response:
    # The owner trashes it; then each role tries to restore it.
    deleted = await w.client.delete(f"{API}/tasks/{w.subtask}", headers=_as(w, "owner"))
    assert deleted.status_code == 204, deleted.text
    return await w.client.post(f"{API}/tasks/{w.subtask}/restore", headers=_as(w, r))


async def search_for_it(w: World, r: str) -> httpx.Response:
    return await w.client.get(f"{API}/search", params={"q": "T"}, headers=_as(w, r))


async def search_in_project(w: World, r: str) -> httpx.Response:
    return await w.client.get(
        f"{API}/search", params={"q": "T", "project_id": w.project}, headers=_as(w, r)
    )


# Expected status by role: owner, editor, viewer, outsider.
MATRIX: dict[str, tuple[Op, tuple[int, int, int, int]]] = {
    "read task": (read_task, (200, 200, 200, 404)),
    "list project's tasks": (list_project_tasks, (200, 200, 200, 200)),
    "create task": (create_task, (201, 201, 403, 404)),
    "update task": (update_task, (200, 200, 403, 404)),
    "complete task": (complete_task, (200, 200, 403, 404)),
    "delete task": (delete_task, (204, 204, 403, 404)),
    "move task out": (move_task_out, (200, 200, 403, 404)),
    "move task in": (move_task_in, (200, 200, 403, 404)),
    "assign task": (assign_task, (200, 200, 403, 404)),
    "read project": (read_project, (200, 200, 200, 404)),
    "rename project": (rename_project, (200, 403, 403, 404)),
    "reorder own sidebar": (reorder_project, (200, 200, 200, 404)),
    "archive project": (archive_project, (200, 403, 403, 404)),
    "delete project": (delete_project, (204, 403, 403, 404)),
    "list sections": (list_sections, (200, 200, 200, 404)),
    "create section": (create_section, (201, 201, 403, 404)),
    "rename section": (rename_section, (200, 200, 403, 404)),
    "delete section": (delete_section, (204, 204, 403, 404)),
    "list members": (list_members, (200, 200, 200, 404)),
    "add member": (add_member, (201, 403, 403, 404)),
    "change role": (change_role, (200, 403, 403, 404)),
    "remove member": (remove_member, (204, 403, 403, 404)),
    "leave": (leave, (409, 204, 204, 404)),
    "transfer": (transfer, (200, 403, 403, 404)),
    "read comments": (read_comments, (200, 200, 200, 404)),
    "post comment": (post_comment, (201, 201, 403, 404)),
    "edit owner's comment": (edit_owners_comment, (200, 403, 403, 404)),
    "delete owner's comment": (delete_owners_comment, (204, 403, 403, 404)),
    "read activity": (read_activity, (200, 200, 200, 404)),
    "set own reminder": (set_reminder, (201, 201, 201, 404)),
    "bulk complete": (bulk_complete, (200, 200, 409, 409)),
    "bulk move in": (bulk_move_in, (200, 200, 409, 409)),
    "restore task": (restore_task, (200, 200, 403, 404)),
    "search": (search_for_it, (200, 200, 200, 200)),
    "search in project": (search_in_project, (200, 200, 200, 200)),
}
# An outsider listing with P's id gets an empty page (a filter on what they see), not P's.
SLUGS = {
    403: ("insufficient-role", "not-comment-author"),
    404: None,
    409: ("owner-must-transfer", "bulk-failed"),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("operation", list(MATRIX))
async def test_role_operation_matrix(world: World, operation: str, role: str) -> None:
    op, expected = MATRIX[operation]
    status = expected[ROLES.index(role)]
    response = await op(world, role)
    assert response.status_code == status, (operation, role, response.text)
    if status >= 400:
        body = response.json()
        slugs = SLUGS.get(status)
        if slugs:
            assert body["type"].rsplit(":", 1)[1] in slugs, body
        if status == 404:
            # Nothing of P leaks into the answer (beyond the path the caller sent).
            rest = str({k: v for k, v in body.items() if k != "instance"})
            assert world.project not in rest
            assert world.task not in rest
    if status == 409 and operation.startswith("bulk"):
        # Nothing applied; each item fails as the single operation would.
        expected_item = "insufficient-role" if role == "viewer" else "not-found"
        for item in response.json()["results"]:
            assert item["type"].endswith(expected_item), item
    if operation == "list project's tasks":
        ids = {t["id"] for t in response.json()["items"]}
        assert (world.task in ids) == (role != "outsider")
    if operation.startswith("search"):
        hits = {hit["task"]["id"] for hit in response.json()["items"]}
        assert (world.task in hits) == (role != "outsider")
        assert {hit["task"]["project_id"] for hit in response.json()["items"]} <= {
            world.project,
            world.own_project[role],
        }


@pytest.mark.parametrize("role", ROLES)
async def test_the_unfiltered_list_holds_exactly_the_projects_one_belongs_to(
    world: World, role: str
) -> None:
    items = (await _json(await world.client.get(f"{API}/tasks", headers=_as(world, role)), 200))[
        "items"
    ]
    projects = {t["project_id"] for t in items}
    assert (world.project in projects) == (role != "outsider")
    others = {world.own_project[r] for r in ROLES if r != role}
    assert not projects & others
    assert world.own_project[role] in projects


@pytest.mark.parametrize("role", ["owner", "editor"])
async def test_ids_from_another_project_are_refused(world: World, role: str) -> None:
    """A section, parent or assignee named by id must belong to the task's own project."""
    c, h = world.client, _as(world, role)
    foreign_section = world.own_section["outsider"]
    own_section = world.own_section[role]  # theirs, but of another project than P
    for section in (foreign_section, own_section):
        r = await c.patch(f"{API}/tasks/{world.task}", json={"section_id": section}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "section_id"
        r = await c.post(
            f"{API}/tasks",
            json={"title": "x", "project_id": world.project, "section_id": section},
            headers=h,
        )
        assert r.status_code == 422, r.text
    for parent in (world.own_task["outsider"], world.own_task[role]):
        r = await c.patch(f"{API}/tasks/{world.task}", json={"parent_id": parent}, headers=h)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == "parent_id"
    outsider = world.people["outsider"].tokens["user_id"]
    r = await c.patch(f"{API}/tasks/{world.task}", json={"assignee_id": outsider}, headers=h)
    assert r.status_code == 422, r.text
    # A section of another project addressed through P's path is not found.
    r = await c.patch(
        f"{API}/projects/{world.project}/sections/{own_section}", json={"name": "x"}, headers=h
    )
    assert r.status_code == 404, r.text
    # A comment of P's task addressed through another task's path is not found.
    r = await c.patch(
        f"{API}/tasks/{world.subtask}/comments/{world.comment}", json={"body": "x"}, headers=h
    )
    assert r.status_code == 404, r.text
    # Nothing changed.
    task = await _json(await c.get(f"{API}/tasks/{world.task}", headers=h), 200)
    assert task["section_id"] is None
    assert task["parent_id"] is None
    assert task["assignee_id"] is None


async def test_moving_into_a_project_needs_write_access_there(world: World) -> None:
    """An editor of P cannot push a task into a project where they are only a viewer, nor
    into one they cannot see; the task stays where it was."""
    c = world.client
    alice, bob = _as(world, "owner"), _as(world, "editor")
    viewer_only = await _json(await c.post(f"{API}/projects", json={"name": "Q"}, headers=alice))
    await _json(
        await c.post(
            f"{API}/projects/{viewer_only['id']}/members",
            json={"email": "bob@example.com", "role": "viewer"},
            headers=alice,
        )
    )
    r = await c.patch(
        f"{API}/tasks/{world.task}", json={"project_id": viewer_only["id"]}, headers=bob
    )
    assert r.status_code == 403, r.text
    r = await c.patch(
        f"{API}/tasks/{world.task}",
        json={"project_id": world.own_project["outsider"]},
        headers=bob,
    )
    assert r.status_code == 404, r.text
    assert r.json()["type"].endswith("project-not-found")
    task = await _json(await c.get(f"{API}/tasks/{world.task}", headers=bob), 200)
    assert task["project_id"] == world.project


async def test_a_task_moved_away_leaves_with_its_subtasks_and_its_old_members_lose_it(
    world: World,
) -> None:
    c = world.client
    alice = _as(world, "owner")
    moved = await _json(
        await c.patch(
            f"{API}/tasks/{world.task}",
            json={"project_id": world.own_project["owner"]},
            headers=alice,
        ),
        200,
    )
    assert moved["project_id"] == world.own_project["owner"]
    assert moved["section_id"] is None
    assert moved["parent_id"] is None
    sub = await _json(await c.get(f"{API}/tasks/{world.subtask}", headers=alice), 200)
    assert sub["project_id"] == world.own_project["owner"]
    assert sub["parent_id"] == world.task
    for role in ("editor", "viewer"):
        for task_id in (world.task, world.subtask):
            r = await c.get(f"{API}/tasks/{task_id}", headers=_as(world, role))
            assert r.status_code == 404, r.text
            r = await c.patch(
                f"{API}/tasks/{task_id}", json={"title": "x"}, headers=_as(world, role)
            )
            assert r.status_code == 404, r.text
        r = await c.get(f"{API}/tasks/{world.task}/comments", headers=_as(world, role))
        assert r.status_code == 404, r.text
        listed = await _json(
            await c.get(
                f"{API}/tasks", params={"project_id": world.project}, headers=_as(world, role)
            ),
            200,
        )
        assert {world.task, world.subtask}.isdisjoint({t["id"] for t in listed["items"]})


async def test_a_removed_member_loses_access_at_once_and_their_assignments_end(
    world: World,
) -> None:
    c = world.client
    alice, bob = _as(world, "owner"), _as(world, "editor")
    bob_id = world.people["editor"].tokens["user_id"]
    await _json(
        await c.patch(f"{API}/tasks/{world.task}", json={"assignee_id": bob_id}, headers=alice), 200
    )
    # Bob has read the task and the list (and they may be cached for him).
    await _json(await c.get(f"{API}/tasks/{world.task}", headers=bob), 200)
    await _json(await c.get(f"{API}/tasks", headers=bob), 200)
    r = await c.delete(f"{API}/projects/{world.project}/members/{bob_id}", headers=alice)
    assert r.status_code == 204, r.text
    assert (await c.get(f"{API}/tasks/{world.task}", headers=bob)).status_code == 404
    listed = await _json(await c.get(f"{API}/tasks", headers=bob), 200)
    assert world.task not in {t["id"] for t in listed["items"]}
    task = await _json(await c.get(f"{API}/tasks/{world.task}", headers=alice), 200)
    assert task["assignee_id"] is None


async def test_a_trashed_project_hides_its_tasks_from_every_member(world: World) -> None:
    c = world.client
    assert (
        await c.delete(f"{API}/projects/{world.project}", headers=_as(world, "owner"))
    ).status_code == 204
    for role in ("owner", "editor", "viewer"):
        r = await c.get(f"{API}/tasks/{world.task}", headers=_as(world, role))
        assert r.status_code == 404, r.text
        r = await c.get(f"{API}/projects/{world.project}", headers=_as(world, role))
        assert r.status_code == 404, r.text
    restored = await c.post(f"{API}/projects/{world.project}/restore", headers=_as(world, "owner"))
    assert restored.status_code == 200, restored.text
    for role in ("owner", "editor", "viewer"):
        assert (
            await c.get(f"{API}/tasks/{world.task}", headers=_as(world, role))
        ).status_code == 200


async def test_only_the_owner_restores_a_trashed_project(world: World) -> None:
    c = world.client
    await c.delete(f"{API}/projects/{world.project}", headers=_as(world, "owner"))
    for role in ("editor", "viewer", "outsider"):
        r = await c.post(f"{API}/projects/{world.project}/restore", headers=_as(world, role))
        assert r.status_code == 404, r.text
