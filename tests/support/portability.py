"""Data built through the API for the import and export tests, and the shape of a document
with its ids taken out (what a round trip must keep)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.conftest import Account
from tests.support.sharing import PROJECTS, TASKS, user_id

API = "/api/v1"
EXPORT = f"{API}/export"
EXPORT_CSV = f"{API}/export/tasks.csv"
IMPORT = f"{API}/import"
TODOIST = f"{API}/import/todoist"


async def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


@dataclass
class World:
    """What alice can see, and what she cannot (ids by name)."""

    projects: dict[str, str] = field(default_factory=dict)
    sections: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    tasks: dict[str, str] = field(default_factory=dict)
    hidden: set[str] = field(default_factory=set)


class Builder:
    def __init__(self, client: httpx.AsyncClient, world: World) -> None:
        self.client = client
        self.world = world

    async def project(self, account: Account, name: str, **fields: Any) -> str:
        body = {"name": name, **fields}
        created = await ok(
            await self.client.post(PROJECTS, json=body, headers=account.headers), 201
        )
        self.world.projects[name] = created["id"]
        return str(created["id"])

    async def section(self, account: Account, project: str, name: str) -> str:
        url = f"{PROJECTS}/{self.world.projects[project]}/sections"
        created = await ok(
            await self.client.post(url, json={"name": name}, headers=account.headers), 201
        )
        self.world.sections[name] = created["id"]
        return str(created["id"])

    async def label(self, account: Account, name: str, color: str | None = None) -> str:
        body = {"name": name, "color": color}
        created = await ok(
            await self.client.post(f"{API}/labels", json=body, headers=account.headers), 201
        )
        self.world.labels[name] = created["id"]
        return str(created["id"])

    async def task(self, account: Account, title: str, **fields: Any) -> str:
        body = {"title": title, **fields}
        created = await ok(await self.client.post(TASKS, json=body, headers=account.headers), 201)
        self.world.tasks[title] = created["id"]
        return str(created["id"])

    async def reminder(self, account: Account, task: str, **fields: Any) -> None:
        url = f"{TASKS}/{self.world.tasks[task]}/reminders"
        await ok(await self.client.post(url, json=fields, headers=account.headers), 201)

    async def comment(self, account: Account, task: str, body: str) -> None:
        url = f"{TASKS}/{self.world.tasks[task]}/comments"
        await ok(await self.client.post(url, json={"body": body}, headers=account.headers), 201)


async def build_world(client: httpx.AsyncClient, alice: Account, bob: Account) -> World:
    """Alice's Inbox, projects (one archived), sections, labels, subtasks three deep, a done
    task, comments; bob's project shared with alice as editor, with bob's own label and
    comment on a task; and what alice must not see: bob's private project, the trash."""
    world = World()
    b = Builder(client, world)
    outdoor = await b.label(alice, "Outdoor", "#22aa55")
    weekend = await b.label(alice, "Weekend")
    await b.task(alice, "Call the plumber", labels=[weekend], priority=3)

    garden = await b.project(alice, "Garden", color="#aa3300")
    beds = await b.section(alice, "Garden", "Beds")
    await b.section(alice, "Garden", "Tools")
    roses = await b.task(
        alice,
        "Plant roses",
        project_id=garden,
        section_id=beds,
        labels=[outdoor, weekend],
        description="Red ones *and* white ones",
        due_at="2025-05-01T09:30:00Z",
    )
    holes = await b.task(alice, "Dig holes", project_id=garden, section_id=beds, parent_id=roses)
    await b.task(alice, "Buy a spade", project_id=garden, parent_id=holes, priority=4)
    await b.task(alice, "Mow the lawn", project_id=garden, status="done", labels=[outdoor])
    await b.comment(alice, "Plant roses", "Order from the nursery on Elm Street")
    await b.comment(alice, "Dig holes", "Done half of them")
    # A weekly series: completing it made the next occurrence.
    water = await b.task(
        alice,
        "Water the plants",
        project_id=garden,
        due_date="2025-05-01",
        start_date="2025-04-28",
        recurrence="FREQ=WEEKLY",
    )
    await ok(await client.patch(f"{TASKS}/{water}", json={"status": "done"}, headers=alice.headers))
    bank = await b.task(
        alice, "Call the bank", due_at="2025-05-02T15:00:00Z", due_timezone="Europe/Berlin"
    )
    await b.reminder(alice, "Plant roses", minutes_before=30)
    await b.reminder(alice, "Call the bank", remind_at="2025-05-02T14:00:00Z")
    del bank

    old = await b.project(alice, "Old stuff")
    await b.task(alice, "Forgotten chore", project_id=old)
    await ok(
        await client.patch(f"{PROJECTS}/{old}", json={"archived": True}, headers=alice.headers)
    )

    shared = await b.project(bob, "Shared")
    await ok(
        await client.post(
            f"{PROJECTS}/{shared}/members",
            json={"email": alice.email, "role": "editor"},
            headers=bob.headers,
        ),
        201,
    )
    alice_id, bob_id = await user_id(client, alice), await user_id(client, bob)
    bobs_label = await b.label(bob, "Bob's own")
    fence = await b.task(bob, "Fix the fence", project_id=shared, assignee_id=alice_id)
    await b.task(bob, "Paint the shed", project_id=shared, assignee_id=bob_id)
    await ok(
        await client.patch(f"{TASKS}/{fence}", json={"labels": [outdoor]}, headers=alice.headers)
    )
    await ok(
        await client.patch(f"{TASKS}/{fence}", json={"labels": [bobs_label]}, headers=bob.headers)
    )
    await b.comment(bob, "Fix the fence", "Bring nails")
    await b.reminder(bob, "Fix the fence", remind_at="2025-06-01T08:00:00Z")
    await b.comment(alice, "Fix the fence", "Will do on Saturday")

    secret = await b.project(bob, "Secret")
    await b.task(bob, "Bob's surprise", project_id=secret)
    trashed = await b.task(alice, "Thrown away", project_id=garden)
    await ok(await client.delete(f"{TASKS}/{trashed}", headers=alice.headers), 204)
    binned = await b.project(alice, "Binned")
    await b.task(alice, "In a binned project", project_id=binned)
    await ok(await client.delete(f"{PROJECTS}/{binned}", headers=alice.headers), 204)
    world.hidden = {
        secret,
        trashed,
        binned,
        bobs_label,
        world.tasks["Bob's surprise"],
        world.tasks["In a binned project"],
    }
    return world


def ids_in(document: dict[str, Any]) -> set[str]:
    found = {p["id"] for p in document["projects"]}
    found |= {s["id"] for p in document["projects"] for s in p["sections"]}
    found |= {label["id"] for label in document["labels"]}
    found |= {t["id"] for t in document["tasks"]}
    found |= {c["id"] for c in document["comments"]}
    found |= {r["id"] for r in document["reminders"]}
    return found


def shape(document: dict[str, Any]) -> dict[str, Any]:
    """The document as names and values, without ids, roles and members: what a round trip
    keeps. Comments written by the exporter are marked as such."""
    me = document["user"]["id"]
    projects = {p["id"]: p for p in document["projects"]}
    sections = {s["id"]: s["name"] for p in document["projects"] for s in p["sections"]}
    labels = {label["id"]: label["name"] for label in document["labels"]}
    tasks = {t["id"]: t for t in document["tasks"]}

    def task(t: dict[str, Any]) -> tuple[Any, ...]:
        parent = tasks[t["parent_id"]]["title"] if t["parent_id"] else None
        after = tasks[t["next_occurrence_id"]]["due_date"] if t["next_occurrence_id"] else None
        return (
            projects[t["project_id"]]["name"],
            sections.get(t["section_id"]),
            parent,
            t["title"],
            t["description"],
            t["status"],
            t["priority"],
            t["due_at"],
            t["due_date"],
            t["due_timezone"],
            t["start_date"],
            t["recurrence"],
            after,
            t["completed_at"],
            t["created_at"],
            tuple(sorted(labels[label] for label in t["labels"])),
            t["assignee_id"] == me,
        )

    return {
        "projects": sorted(
            (
                (
                    p["name"],
                    p["color"],
                    p["is_inbox"],
                    p["archived"],
                    *tuple(s["name"] for s in p["sections"]),
                )
                for p in document["projects"]
            ),
            key=repr,
        ),
        "labels": sorted(
            ((label["name"], label["color"]) for label in document["labels"]), key=repr
        ),
        "tasks": sorted((task(t) for t in document["tasks"]), key=repr),
        "comments": sorted(
            (
                (tasks[c["task_id"]]["title"], c["body"], c["author_id"] == me, c["created_at"])
                for c in document["comments"]
            ),
            key=repr,
        ),
        "reminders": sorted(
            (tasks[r["task_id"]]["title"], r["remind_at"], r["minutes_before"], r["delivered_at"])
            for r in document["reminders"]
        ),
    }
