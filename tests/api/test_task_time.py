"""Time on tasks: a time zone per user, due dates and date-times, start dates, recurring
tasks (RFC 5545) whose next occurrence comes exactly once and keeps its wall-clock time
across daylight-saving changes, and reminders."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

API = "/api/v1"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def _task(client: httpx.AsyncClient, who: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "t")
    body: dict[str, Any] = await _ok(
        await client.post(f"{API}/tasks", json=fields, headers=who.headers), 201
    )
    return body


async def _complete(client: httpx.AsyncClient, who: Account, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(
        await client.patch(f"{API}/tasks/{task_id}", json={"status": "done"}, headers=who.headers)
    )
    return body


async def _open_in_series(
    client: httpx.AsyncClient, who: Account, title: str
) -> list[dict[str, Any]]:
    listed = await _ok(
        await client.get(
            f"{API}/tasks", params={"status": "todo", "limit": 200}, headers=who.headers
        )
    )
    return [t for t in listed["items"] if t["title"] == title]


async def test_each_user_has_a_time_zone_they_can_change(
    client: httpx.AsyncClient, alice: Account
) -> None:
    me = await _ok(await client.get(f"{API}/users/me", headers=alice.headers))
    assert me["time_zone"] == "UTC"
    changed = await _ok(
        await client.patch(
            f"{API}/users/me", json={"time_zone": "America/New_York"}, headers=alice.headers
        )
    )
    assert changed["time_zone"] == "America/New_York"
    for bad in ("Mars/Olympus", "", "utc+2", 5):
        assert_problem(
            await client.patch(f"{API}/users/me", json={"time_zone": bad}, headers=alice.headers),
            422,
            "validation-error",
        )


async def test_a_due_is_a_day_or_a_date_time_never_both(
    client: httpx.AsyncClient, alice: Account
) -> None:
    day = await _task(client, alice, due_date="2026-12-24", start_date="2026-12-20")
    assert day["due_date"] == "2026-12-24"
    assert day["due_at"] == "2026-12-24T00:00:00Z"  # what lists sort and filter by
    assert day["due_timezone"] is None
    assert day["start_date"] == "2026-12-20"
    timed = await _task(client, alice, due_at="2026-12-24T18:00:00+01:00")
    assert timed["due_date"] is None
    assert timed["due_at"] == "2026-12-24T17:00:00Z"
    assert timed["due_timezone"] == "UTC"  # the creator's zone
    assert_problem(
        await client.post(
            f"{API}/tasks",
            json={"title": "x", "due_date": "2026-12-24", "due_at": "2026-12-24T18:00:00Z"},
            headers=alice.headers,
        ),
        422,
        "validation-error",
    )
    for bad in (
        {"due_date": "24.12.2026"},
        {"due_date": 20261224},
        {"due_date": "2026-12-24T00:00:00"},
        {"start_date": "2026-02-30"},
    ):
        assert_problem(
            await client.post(f"{API}/tasks", json={"title": "x", **bad}, headers=alice.headers),
            422,
            "validation-error",
        )
    # A day due becomes a timed one and back; clearing it clears the rule too.
    changed = await _ok(
        await client.patch(
            f"{API}/tasks/{day['id']}",
            json={"due_at": "2026-12-25T09:00:00Z"},
            headers=alice.headers,
        )
    )
    assert changed["due_date"] is None
    assert changed["due_at"] == "2026-12-25T09:00:00Z"
    cleared = await _ok(
        await client.patch(f"{API}/tasks/{day['id']}", json={"due_at": None}, headers=alice.headers)
    )
    assert (cleared["due_at"], cleared["due_date"], cleared["recurrence"]) == (None, None, None)


async def test_a_rule_needs_a_due_and_must_be_an_rrule(
    client: httpx.AsyncClient, alice: Account
) -> None:
    assert_problem(
        await client.post(
            f"{API}/tasks", json={"title": "x", "recurrence": "FREQ=DAILY"}, headers=alice.headers
        ),
        422,
        "validation-error",
    )
    for bad in (
        "every day",
        "FREQ=SOMETIMES",
        "DTSTART:20260101T000000Z\nRRULE:FREQ=DAILY",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;BYDAY=XX",
        "x" * 2000,
    ):
        assert_problem(
            await client.post(
                f"{API}/tasks",
                json={"title": "x", "due_date": "2026-12-01", "recurrence": bad},
                headers=alice.headers,
            ),
            422,
            "validation-error",
        )
    task = await _task(
        client, alice, due_date="2026-12-01", recurrence="rrule:freq=weekly;byday=mo"
    )
    assert task["recurrence"] == "FREQ=WEEKLY;BYDAY=MO"


async def test_every_weekday_skips_the_weekend(client: httpx.AsyncClient, alice: Account) -> None:
    # Friday 4 December 2026.
    task = await _task(
        client,
        alice,
        title="standup",
        due_date="2026-12-04",
        recurrence="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    )
    done = await _complete(client, alice, task["id"])
    assert done["recurrence"] is None
    [following] = await _open_in_series(client, alice, "standup")
    assert done["next_occurrence_id"] == following["id"]
    assert following["due_date"] == "2026-12-07"  # Monday
    assert following["recurrence"] == "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"


async def test_monthly_on_the_last_friday(client: httpx.AsyncClient, alice: Account) -> None:
    task = await _task(
        client, alice, title="report", due_date="2026-01-30", recurrence="FREQ=MONTHLY;BYDAY=-1FR"
    )
    dues = []
    current = task
    for _ in range(3):
        await _complete(client, alice, current["id"])
        [current] = await _open_in_series(client, alice, "report")
        dues.append(current["due_date"])
    assert dues == ["2026-02-27", "2026-03-27", "2026-04-24"]


@pytest.mark.parametrize(
    ("zone", "first", "expected_utc"),
    [
        # Berlin leaves winter time on 29 March 2026: 09:00 is 08:00Z before, 07:00Z after.
        (
            "Europe/Berlin",
            datetime(2026, 3, 28, 9, 0),
            ["2026-03-29T07:00:00Z", "2026-03-30T07:00:00Z"],
        ),
        # New York returns to standard time on 1 November 2026: 09:00 is 13:00Z, then 14:00Z.
        (
            "America/New_York",
            datetime(2026, 10, 31, 9, 0),
            ["2026-11-01T14:00:00Z", "2026-11-02T14:00:00Z"],
        ),
    ],
)
async def test_a_daily_time_keeps_its_wall_clock_across_daylight_saving(
    client: httpx.AsyncClient, alice: Account, zone: str, first: datetime, expected_utc: list[str]
) -> None:
    await _ok(
        await client.patch(f"{API}/users/me", json={"time_zone": zone}, headers=alice.headers)
    )
    due = first.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC).isoformat()
    current = await _task(client, alice, title="pills", due_at=due, recurrence="FREQ=DAILY")
    assert current["due_timezone"] == zone
    seen = []
    for _ in expected_utc:
        await _complete(client, alice, current["id"])
        [current] = await _open_in_series(client, alice, "pills")
        seen.append(current["due_at"])
        local = datetime.fromisoformat(current["due_at"]).astimezone(ZoneInfo(zone))
        assert (local.hour, local.minute) == (9, 0)
    assert seen == expected_utc


async def test_completing_an_occurrence_creates_the_next_exactly_once(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="water", due_date="2026-12-01", recurrence="FREQ=DAILY")
    # Ten concurrent completions, then reopening and completing again: one next occurrence.
    responses = await asyncio.gather(
        *(
            client.patch(
                f"{API}/tasks/{task['id']}", json={"status": "done"}, headers=alice.headers
            )
            for _ in range(10)
        )
    )
    assert {r.status_code for r in responses} == {200}
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"status": "todo"}, headers=alice.headers
        )
    )
    await _complete(client, alice, task["id"])
    series = await _open_in_series(client, alice, "water")
    assert [t["due_date"] for t in series] == ["2026-12-02"]


async def test_a_counted_series_ends(client: httpx.AsyncClient, alice: Account) -> None:
    task = await _task(
        client, alice, title="thrice", due_date="2026-12-01", recurrence="FREQ=DAILY;COUNT=3"
    )
    await _complete(client, alice, task["id"])
    [second] = await _open_in_series(client, alice, "thrice")
    assert second["recurrence"] == "FREQ=DAILY;COUNT=2"
    await _complete(client, alice, second["id"])
    [third] = await _open_in_series(client, alice, "thrice")
    assert third["due_date"] == "2026-12-03"
    last = await _complete(client, alice, third["id"])
    assert last["next_occurrence_id"] is None
    assert await _open_in_series(client, alice, "thrice") == []


async def test_the_next_occurrence_keeps_labels_place_and_start_offset(
    client: httpx.AsyncClient, alice: Account
) -> None:
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "home"}, headers=alice.headers), 201
    )
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "House"}, headers=alice.headers), 201
    )
    section = await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/sections",
            json={"name": "Weekly"},
            headers=alice.headers,
        ),
        201,
    )
    task = await _task(
        client,
        alice,
        title="bins",
        project_id=project["id"],
        section_id=section["id"],
        labels=[label["id"]],
        priority=3,
        due_date="2026-12-07",
        start_date="2026-12-06",
        recurrence="FREQ=WEEKLY",
    )
    await _complete(client, alice, task["id"])
    [following] = await _open_in_series(client, alice, "bins")
    assert following["labels"] == [label["id"]]
    assert (following["project_id"], following["section_id"], following["priority"]) == (
        project["id"],
        section["id"],
        3,
    )
    assert (following["due_date"], following["start_date"]) == ("2026-12-14", "2026-12-13")
    history = await _ok(
        await client.get(f"{API}/tasks/{following['id']}/activity", headers=alice.headers)
    )
    assert history["items"][-1]["changes"] == {"recurrence_of": [None, task["id"]]}


async def test_reminders_are_each_users_own_and_follow_the_due(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/members",
            json={"email": bob.email, "role": "viewer"},
            headers=alice.headers,
        ),
        201,
    )
    task = await _task(client, alice, project_id=project["id"], due_at="2026-12-24T18:00:00Z")
    url = f"{API}/tasks/{task['id']}/reminders"
    absolute = await _ok(
        await client.post(url, json={"remind_at": "2026-12-24T08:00:00Z"}, headers=alice.headers),
        201,
    )
    relative = await _ok(
        await client.post(url, json={"minutes_before": 30}, headers=alice.headers), 201
    )
    assert relative["remind_at"] == "2026-12-24T17:30:00Z"
    # A viewer may be reminded too; each sees only their own.
    await _ok(await client.post(url, json={"minutes_before": 0}, headers=bob.headers), 201)
    mine = await _ok(await client.get(url, headers=alice.headers))
    assert [r["id"] for r in mine["items"]] == [absolute["id"], relative["id"]]
    assert len((await _ok(await client.get(url, headers=bob.headers)))["items"]) == 1
    # Moving the due moves relative reminders only.
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}",
            json={"due_at": "2026-12-25T10:00:00Z"},
            headers=alice.headers,
        )
    )
    by_id = {r["id"]: r for r in (await _ok(await client.get(url, headers=alice.headers)))["items"]}
    assert by_id[relative["id"]]["remind_at"] == "2026-12-25T09:30:00Z"
    assert by_id[absolute["id"]]["remind_at"] == "2026-12-24T08:00:00Z"
    # Bob cannot delete Alice's reminder; an outsider cannot see the task at all.
    assert_problem(
        await client.delete(f"{url}/{relative['id']}", headers=bob.headers),
        404,
        "reminder-not-found",
    )
    assert (
        await client.delete(f"{url}/{relative['id']}", headers=alice.headers)
    ).status_code == 204


async def test_reminder_bodies_and_limits(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    undated = await _task(client, alice)
    url = f"{API}/tasks/{undated['id']}/reminders"
    for body in (
        {},
        {"remind_at": "2026-12-24T08:00:00Z", "minutes_before": 5},
        {"minutes_before": -1},
        {"minutes_before": "5"},
        {"remind_at": "tomorrow"},
        {"minutes_before": 10},
    ):
        assert_problem(
            await client.post(url, json=body, headers=alice.headers), 422, "validation-error"
        )
    assert_problem(
        await client.post(url, json={"remind_at": "2026-12-24T08:00:00Z"}, headers=bob.headers),
        404,
        "task-not-found",
    )
    for _ in range(10):
        await _ok(
            await client.post(
                url, json={"remind_at": "2026-12-24T08:00:00Z"}, headers=alice.headers
            ),
            201,
        )
    assert_problem(
        await client.post(url, json={"remind_at": "2026-12-24T08:00:00Z"}, headers=alice.headers),
        409,
        "reminder-limit",
    )


async def test_a_removed_member_loses_their_reminders_there(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await _ok(
        await client.post(f"{API}/projects", json={"name": "P"}, headers=alice.headers), 201
    )
    await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/members",
            json={"email": bob.email, "role": "editor"},
            headers=alice.headers,
        ),
        201,
    )
    task = await _task(client, alice, project_id=project["id"], due_date="2026-12-24")
    url = f"{API}/tasks/{task['id']}/reminders"
    await _ok(await client.post(url, json={"minutes_before": 60}, headers=bob.headers), 201)
    bob_id = (await _ok(await client.get(f"{API}/users/me", headers=bob.headers)))["id"]
    await client.delete(f"{API}/projects/{project['id']}/members/{bob_id}", headers=alice.headers)
    await _ok(
        await client.post(
            f"{API}/projects/{project['id']}/members",
            json={"email": bob.email, "role": "editor"},
            headers=alice.headers,
        ),
        201,
    )
    assert (await _ok(await client.get(url, headers=bob.headers)))["items"] == []
