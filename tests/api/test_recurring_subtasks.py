"""A recurring task's next occurrence comes with its subtasks again, open, moved on with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests.conftest import Account

API = "/api/v1"
TASKS = f"{API}/tasks"


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _task(client: httpx.AsyncClient, who: Account, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(
        await client.post(TASKS, json=fields, headers=who.headers), 201
    )
    return body


async def _get(client: httpx.AsyncClient, who: Account, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(await client.get(f"{TASKS}/{task_id}", headers=who.headers))
    return body


async def _complete(
    client: httpx.AsyncClient, who: Account, task_id: str, children: str = "complete"
) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(
        await client.patch(
            f"{TASKS}/{task_id}",
            json={"status": "done", "children": children},
            headers=who.headers,
        )
    )
    return body


async def _weekly_with_a_daily_subtask(
    client: httpx.AsyncClient, who: Account
) -> tuple[dict[str, Any], dict[str, Any]]:
    """ "week" (weekly, due 2026-12-07) and its subtask "stretch" (daily, due the same day)."""
    parent = await _task(client, who, title="week", due_date="2026-12-07", recurrence="FREQ=WEEKLY")
    child = await _task(
        client,
        who,
        title="stretch",
        parent_id=parent["id"],
        due_date="2026-12-07",
        recurrence="FREQ=DAILY",
    )
    return parent, child


async def _children(client: httpx.AsyncClient, who: Account, parent: str) -> list[dict[str, Any]]:
    body = await _ok(
        await client.get(TASKS, params={"parent_id": parent, "limit": 200}, headers=who.headers)
    )
    items: list[dict[str, Any]] = body["items"]
    return sorted(items, key=lambda t: t["position"])


async def test_the_next_occurrence_has_the_whole_checklist_again_open(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "gym"}, headers=alice.headers), 201
    )
    parent = await _task(
        client, alice, title="weekly review", due_date="2026-12-04", recurrence="FREQ=WEEKLY"
    )
    inbox = await _task(
        client,
        alice,
        title="empty the inbox",
        parent_id=parent["id"],
        due_date="2026-12-03",
        start_date="2026-12-01",
        labels=[label["id"]],
        priority=3,
    )
    plan = await _task(client, alice, title="plan the week", parent_id=parent["id"])
    await _task(client, alice, title="look at the calendar", parent_id=plan["id"])
    gone = await _task(client, alice, title="trashed", parent_id=parent["id"])
    await _ok(await client.delete(f"{TASKS}/{gone['id']}", headers=alice.headers), 204)
    # Done before the parent: it comes back open all the same.
    await _complete(client, alice, inbox["id"])

    done = await _complete(client, alice, parent["id"])

    following = done["next_occurrence_id"]
    assert (await _get(client, alice, following))["due_date"] == "2026-12-11"
    copies = await _children(client, alice, following)
    assert [c["title"] for c in copies] == ["empty the inbox", "plan the week"]
    assert all(c["status"] == "todo" and c["completed_at"] is None for c in copies)
    first, second = copies
    assert (first["due_date"], first["start_date"]) == ("2026-12-10", "2026-12-08")
    assert (first["labels"], first["priority"]) == ([label["id"]], 3)
    assert first["id"] != inbox["id"]
    [grandchild] = await _children(client, alice, second["id"])
    assert (grandchild["title"], grandchild["status"]) == ("look at the calendar", "todo")
    # The originals stay with the completed occurrence, done.
    originals = await _children(client, alice, parent["id"])
    assert {t["id"] for t in originals} == {inbox["id"], plan["id"]}
    assert all(t["status"] == "done" for t in originals)
    # Completing the next occurrence carries the checklist on once more.
    after = await _complete(client, alice, following)
    again = await _children(client, alice, after["next_occurrence_id"])
    assert [c["title"] for c in again] == ["empty the inbox", "plan the week"]


async def test_a_recurring_subtask_goes_on_once_with_its_recurring_parent(
    client: httpx.AsyncClient, alice: Account
) -> None:
    parent = await _task(
        client, alice, title="month", due_date="2026-12-01", recurrence="FREQ=MONTHLY"
    )
    child = await _task(
        client,
        alice,
        title="water plants",
        parent_id=parent["id"],
        due_date="2026-12-02",
        recurrence="FREQ=WEEKLY",
    )
    done = await _complete(client, alice, parent["id"])
    [copy] = await _children(client, alice, done["next_occurrence_id"])
    # The copy is the subtask's next occurrence: it carries the rule; the original hands it on.
    assert (copy["due_date"], copy["recurrence"]) == ("2027-01-02", "FREQ=WEEKLY")
    original = await _get(client, alice, child["id"])
    assert (original["status"], original["recurrence"]) == ("done", None)
    assert original["next_occurrence_id"] == copy["id"]
    # No second occurrence of the subtask anywhere else.
    listed = await _ok(
        await client.get(TASKS, params={"status": "todo", "limit": 200}, headers=alice.headers)
    )
    assert [t["id"] for t in listed["items"] if t["title"] == "water plants"] == [copy["id"]]


async def test_subtasks_kept_open_stay_and_the_next_occurrence_gets_its_own(
    client: httpx.AsyncClient, alice: Account
) -> None:
    parent = await _task(
        client, alice, title="sprint", due_date="2026-12-01", recurrence="FREQ=WEEKLY"
    )
    kept = await _task(
        client,
        alice,
        title="triage",
        parent_id=parent["id"],
        due_date="2026-12-01",
        recurrence="FREQ=DAILY",
    )
    done = await _complete(client, alice, parent["id"], children="keep")
    [copy] = await _children(client, alice, done["next_occurrence_id"])
    assert (copy["title"], copy["status"], copy["due_date"]) == ("triage", "todo", "2026-12-08")
    # The open original keeps its rule, so its copy has none: one series, not two.
    original = await _get(client, alice, kept["id"])
    assert (original["status"], original["recurrence"]) == ("todo", "FREQ=DAILY")
    assert copy["recurrence"] is None


@pytest.mark.parametrize(
    ("zone", "parent_local", "child_local", "expected_child_local"),
    [
        # Berlin leaves summer time on 25 October 2026: a week on, 18:00 is still 18:00.
        (
            "Europe/Berlin",
            datetime(2026, 10, 20, 9, 0),
            datetime(2026, 10, 21, 18, 0),
            datetime(2026, 10, 28, 18, 0),
        ),
    ],
)
async def test_a_subtask_due_at_a_time_keeps_its_wall_clock(
    client: httpx.AsyncClient,
    alice: Account,
    zone: str,
    parent_local: datetime,
    child_local: datetime,
    expected_child_local: datetime,
) -> None:
    await _ok(
        await client.patch(f"{API}/users/me", json={"time_zone": zone}, headers=alice.headers)
    )

    def utc(local: datetime) -> str:
        return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat()

    parent = await _task(
        client, alice, title="review", due_at=utc(parent_local), recurrence="FREQ=WEEKLY"
    )
    await _task(client, alice, title="prepare", parent_id=parent["id"], due_at=utc(child_local))
    done = await _complete(client, alice, parent["id"])
    [copy] = await _children(client, alice, done["next_occurrence_id"])
    moved = datetime.fromisoformat(copy["due_at"]).astimezone(ZoneInfo(zone))
    assert moved.replace(tzinfo=None) == expected_child_local
