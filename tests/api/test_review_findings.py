"""Review findings: each test shows one defect in projects, sharing, subtasks, time, bulk
changes or the trash. Every test here is expected to FAIL until its defect is fixed (the
concurrency ones only where writers really run at once: PostgreSQL)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskwell.db.types import utcnow
from taskwell.settings import Settings
from tests.conftest import Account
from tests.support.sharing import PROJECTS, TASKS, make_project, make_task, user_id

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
        await client.post(TASKS, json=fields, headers=who.headers), 201
    )
    return body


async def _patch(
    client: httpx.AsyncClient, who: Account, task_id: str, **fields: Any
) -> httpx.Response:
    return await client.patch(f"{TASKS}/{task_id}", json=fields, headers=who.headers)


async def _get(client: httpx.AsyncClient, who: Account, task_id: str) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(await client.get(f"{TASKS}/{task_id}", headers=who.headers))
    return body


async def _depth(client: httpx.AsyncClient, who: Account, task_id: str) -> int:
    """Levels above the task (0 for a top-level one), by following parent_id; stops at 50."""
    depth = 0
    current = await _get(client, who, task_id)
    while current["parent_id"] is not None and depth < 50:
        depth += 1
        current = await _get(client, who, current["parent_id"])
    return depth


async def _chain(
    client: httpx.AsyncClient, who: Account, project_id: str, length: int, top: str | None = None
) -> list[str]:
    """`length` tasks, each the subtask of the one before (the first under `top`)."""
    ids: list[str] = []
    parent = top
    for i in range(length):
        fields: dict[str, Any] = {"title": f"level {i}", "project_id": project_id}
        if parent is not None:
            fields["parent_id"] = parent
        parent = (await _task(client, who, **fields))["id"]
        ids.append(parent)
    return ids


async def _list_ids(client: httpx.AsyncClient, who: Account, **params: Any) -> set[str]:
    params.setdefault("limit", 200)
    body = await _ok(await client.get(TASKS, params=params, headers=who.headers))
    return {t["id"] for t in body["items"]}


# --- Subtask trees and the trash --------------------------------------------------------


async def test_restore_under_a_parent_moved_deeper_breaks_the_depth_limit(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Restore puts a subtree back under its parent without checking the depth the parent
    has reached meanwhile; subtree() then stops at MAX_DEPTH+1 levels, so trashing the
    top of the over-deep tree leaves live subtasks under a trashed parent."""
    project = await make_project(client, alice)
    a = (await _task(client, alice, title="A", project_id=project))["id"]
    b, c, d, e, f = await _chain(client, alice, project, 5, top=a)  # depths 1..5
    assert (await client.delete(f"{TASKS}/{b}", headers=alice.headers)).status_code == 204
    # A has no live subtasks now, so it may go under a task at depth 4 (A at depth 5).
    x = await _chain(client, alice, project, 5)  # depths 0..4
    await _ok(await _patch(client, alice, a, parent_id=x[-1]))
    problems = []
    restored = await client.post(f"{TASKS}/{b}/restore", headers=alice.headers)
    # Either refused, or put back somewhere within the limit.
    if restored.status_code == 200 and (depth := await _depth(client, alice, b)) > 5:
        problems.append(f"B restored at depth {depth}, F at depth {depth + 4}")
    # Trashing the top must reach the bottom of whatever tree B is now in.
    b_parent = (await _ok(await client.get(f"{TASKS}/{b}", headers=alice.headers)))["parent_id"]
    top = x[0] if b_parent is not None else b
    assert (await client.delete(f"{TASKS}/{top}", headers=alice.headers)).status_code == 204
    orphans = {c, d, e, f} & await _list_ids(client, alice)
    if orphans:
        problems.append(f"{len(orphans)} subtasks of a trashed task are still listed")
    assert not problems, problems


async def test_bulk_delete_of_a_task_and_its_subtask_fails_as_a_whole(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Selecting a parent and its subtask and deleting them in one bulk request: the parent
    takes the subtask to the trash, then the subtask's own item is a 404, so nothing is done."""
    project = await make_project(client, alice)
    parent = await make_task(client, alice, project, "parent")
    [child] = await _chain(client, alice, project, 1, top=parent)
    response = await client.post(
        f"{TASKS}/bulk",
        json={"action": "delete", "items": [{"id": parent}, {"id": child}]},
        headers=alice.headers,
    )
    assert response.status_code == 200, response.text


# --- Recurrence -------------------------------------------------------------------------


async def test_completing_a_parent_ends_the_series_of_a_recurring_subtask(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Completing a parent completes its open subtasks in bulk (repository.complete), past the
    code that creates a recurring task's next occurrence: the subtask's series stops silently."""
    parent = await _task(client, alice, title="week")
    child = await _task(
        client,
        alice,
        title="water plants",
        parent_id=parent["id"],
        due_date="2026-06-01",
        recurrence="FREQ=DAILY",
    )
    await _ok(await _patch(client, alice, parent["id"], status="done"))
    done = await _get(client, alice, child["id"])
    assert done["status"] == "done"
    assert done["next_occurrence_id"] is not None, "no next occurrence of the recurring subtask"


async def test_until_in_utc_is_read_as_local_wall_clock_time(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Daily at 23:30 Berlin (22:30Z) until 2025-01-10T23:00Z: 10 January 22:30Z is before
    UNTIL, so it is an occurrence. The rule is stepped on naive local times with
    ignoretz=True, so UNTIL's 23:00 is compared with local 23:30 and the series ends early."""
    task = await _task(
        client,
        alice,
        title="backup",
        due_at="2025-01-09T22:30:00Z",
        due_timezone="Europe/Berlin",
        recurrence="FREQ=DAILY;UNTIL=20250110T230000Z",
    )
    done = await _ok(await _patch(client, alice, task["id"], status="done"))
    assert done["next_occurrence_id"] is not None, "the series ended one occurrence early"
    following = await _get(client, alice, done["next_occurrence_id"])
    assert following["due_at"] == "2025-01-10T22:30:00Z"


async def test_a_sub_daily_rule_on_a_whole_day_due_repeats_the_same_day(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """A date-only due stepped by FREQ=HOURLY (or a BYHOUR list) lands on the same day: the
    'next' occurrence is a duplicate of the one just completed."""
    task = await _task(
        client, alice, title="daily", due_date="2026-06-01", recurrence="FREQ=HOURLY"
    )
    done = await client.patch(
        f"{TASKS}/{task['id']}", json={"status": "done"}, headers=alice.headers
    )
    if done.status_code == 200 and done.json()["next_occurrence_id"] is not None:
        following = await _get(client, alice, done.json()["next_occurrence_id"])
        assert following["due_date"] > "2026-06-01", "next occurrence on the same day"


async def test_a_wall_clock_time_skipped_by_dst_drifts_an_hour_for_good(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Daily at 02:30 in Berlin. On 30 March 2025 02:30 does not exist and the occurrence is
    03:30 (documented). But the next one is stepped from that 03:30, not from the series'
    02:30, so every later occurrence is at 03:30."""
    task = await _task(
        client,
        alice,
        title="night job",
        due_at="2025-03-29T01:30:00Z",  # 02:30 CET
        due_timezone="Europe/Berlin",
        recurrence="FREQ=DAILY",
    )
    first = await _ok(await _patch(client, alice, task["id"], status="done"))
    gap_day = await _get(client, alice, first["next_occurrence_id"])
    assert gap_day["due_at"] == "2025-03-30T01:30:00Z"  # 03:30 CEST: 02:30 was skipped
    second = await _ok(await _patch(client, alice, gap_day["id"], status="done"))
    after = await _get(client, alice, second["next_occurrence_id"])
    assert after["due_at"] == "2025-03-31T00:30:00Z", "02:30 CEST expected, got 03:30 CEST"


async def test_an_impossible_sub_daily_rule_stalls_the_event_loop(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30 never fires. normalise() only parses it, and on
    completion dateutil's after() searches to year 9999 (HORIZON is applied only to what it
    returns): ~13 s of CPU on the event loop, during which the server answers nobody."""
    task = await _task(
        client,
        alice,
        title="never",
        due_at="2026-01-01T00:00:00Z",
        recurrence="FREQ=MINUTELY;BYMONTH=2;BYMONTHDAY=30",
    )
    started = time.monotonic()
    response = await _patch(client, alice, task["id"], status="done")
    elapsed = time.monotonic() - started
    assert response.status_code in (200, 422), response.text
    assert elapsed < 2.0, f"completing the task held the event loop for {elapsed:.1f} s"


# --- 500s on odd but valid input ---------------------------------------------------------


async def test_a_relative_reminder_before_a_due_at_year_one_is_a_500(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, due_at="0001-01-01T00:00:00Z")
    response = await client.post(
        f"{TASKS}/{task['id']}/reminders", json={"minutes_before": 1}, headers=alice.headers
    )
    assert response.status_code < 500, response.text


async def test_moving_a_due_to_year_one_under_a_relative_reminder_is_a_500(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, due_at="2026-01-01T10:00:00Z")
    await _ok(
        await client.post(
            f"{TASKS}/{task['id']}/reminders", json={"minutes_before": 60}, headers=alice.headers
        ),
        201,
    )
    response = await _patch(client, alice, task["id"], due_at="0001-01-01T00:30:00Z")
    assert response.status_code < 500, response.text


async def test_completing_a_recurring_task_near_year_9999_east_of_utc_is_a_500(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """recurrence.next_occurrence converts the due to the zone's local time, which is year
    10000 in Tokyo: OverflowError."""
    task = await _task(
        client,
        alice,
        due_at="9999-12-31T20:00:00Z",
        due_timezone="Asia/Tokyo",
        recurrence="FREQ=DAILY",
    )
    response = await _patch(client, alice, task["id"], status="done")
    assert response.status_code < 500, response.text


async def test_a_start_date_shifted_past_year_9999_is_a_500(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """insert_next_occurrence shifts start_date by the due's step with no bound."""
    task = await _task(
        client, alice, due_date="2026-01-01", start_date="9999-12-31", recurrence="FREQ=DAILY"
    )
    response = await _patch(client, alice, task["id"], status="done")
    assert response.status_code < 500, response.text


# --- Leaks across members ----------------------------------------------------------------


async def test_activity_shows_a_members_private_label_ids_to_every_member(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    """Labels are each reader's own (the task JSON shows only the reader's), but a label
    change is recorded as {"labels": [old ids, new ids]} in the activity every member reads."""
    project = await make_project(client, alice, [(bob, "viewer")])
    task = await make_task(client, alice, project)
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "private"}, headers=alice.headers), 201
    )
    await _ok(await _patch(client, alice, task, labels=[label["id"]]))
    assert (await _get(client, bob, task))["labels"] == []
    activity = await _ok(await client.get(f"{TASKS}/{task}/activity", headers=bob.headers))
    assert label["id"] not in str(activity), "bob reads alice's label id in the activity"


# --- Cache and versions -------------------------------------------------------------------


async def test_purging_a_next_occurrence_changes_a_task_without_a_new_version(
    client: httpx.AsyncClient, app: FastAPI, alice: Account
) -> None:
    """The purge deletes the trashed next occurrence; next_occurrence_id of the completed task
    becomes NULL by the foreign key (ON DELETE SET NULL): no version bump, no changed_for.
    Its cached copy (and any client's ETag) keeps pointing at a task that no longer exists."""
    task = await _task(client, alice, due_date="2026-06-01", recurrence="FREQ=DAILY")
    done = await _ok(await _patch(client, alice, task["id"], status="done"))
    following = done["next_occurrence_id"]
    assert (await client.delete(f"{TASKS}/{following}", headers=alice.headers)).status_code == 204
    before = await _get(client, alice, task["id"])  # cached now
    assert before["next_occurrence_id"] == following
    ctx = app.state.context
    assert await ctx.tasks.purge_trash(utcnow() + timedelta(days=60)) >= 1
    after = await _get(client, alice, task["id"])
    assert after["next_occurrence_id"] is None, "served from a stale cache entry"
    assert after["version"] > before["version"], "content changed under the same ETag"


# --- Concurrency (PostgreSQL: writers run at once) -----------------------------------------


async def test_two_concurrent_reparentings_deadlock_into_a_500(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """A under B and B under A at once. Each patch holds FOR UPDATE on its own row; each
    UPDATE's foreign-key check then wants KEY SHARE on the other's row: PostgreSQL detects
    a deadlock and the loser's DeadlockDetectedError surfaces as a 500 (not a 409/422)."""
    project = await make_project(client, alice)
    for _attempt in range(5):
        a = await make_task(client, alice, project, "A")
        b = await make_task(client, alice, project, "B")
        first, second = await asyncio.gather(
            _patch(client, alice, a, parent_id=b), _patch(client, alice, b, parent_id=a)
        )
        assert {first.status_code, second.status_code} <= {200, 409, 422}, (
            first.text,
            second.text,
        )
        task_a, task_b = await _get(client, alice, a), await _get(client, alice, b)
        assert not (task_a["parent_id"] == b and task_b["parent_id"] == a), "A and B form a cycle"


async def test_concurrent_reparentings_make_a_three_task_cycle(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """B has a subtask C. At once: A goes under C (C's ancestors: [B], fine) and B goes under
    A (A's ancestors: [], fine). _check_parent reads the chain without locking it, so both
    checks pass on their snapshots, both commit, and A -> C -> B -> A is a cycle: the three
    tasks leave every top-level view, and subtree()/ancestors() walk in circles."""
    project = await make_project(client, alice)
    for _attempt in range(5):
        a = await make_task(client, alice, project, "A")
        b, c = await _chain(client, alice, project, 2)
        first, second = await asyncio.gather(
            _patch(client, alice, a, parent_id=c), _patch(client, alice, b, parent_id=a)
        )
        assert first.status_code < 500, first.text
        assert second.status_code < 500, second.text
        parents = {t: (await _get(client, alice, t))["parent_id"] for t in (a, b, c)}
        cycle = {a: c, b: a, c: b}
        assert parents != cycle, "A -> C -> B -> A is a cycle"


async def test_concurrent_project_patches_with_the_same_if_match_both_apply(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """ProjectService.update compares If-Match with a version it read without a lock, then
    updates with expected_versions=None: two owners' tabs editing from version 1 both win."""
    for _attempt in range(5):
        project = await make_project(client, alice)
        etag = (await client.get(f"{PROJECTS}/{project}", headers=alice.headers)).headers["etag"]
        first, second = await asyncio.gather(
            *(
                client.patch(
                    f"{PROJECTS}/{project}",
                    json={"name": name},
                    headers={**alice.headers, "If-Match": etag},
                )
                for name in ("From tab one", "From tab two")
            )
        )
        statuses = sorted([first.status_code, second.status_code])
        assert statuses == [200, 412], (first.text, second.text)


async def test_concurrent_invitations_of_the_same_user_are_a_500(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    """invite() checks membership, then inserts: two at once both pass the check and one
    fails on the primary key, an IntegrityError that nothing turns into 409 member-exists."""
    for _attempt in range(5):
        project = await make_project(client, alice)
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{PROJECTS}/{project}/members",
                    json={"email": bob.email, "role": role},
                    headers=alice.headers,
                )
                for role in ("editor", "viewer")
            )
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.text for r in responses]


async def test_concurrent_transfers_leave_two_owners(
    client: httpx.AsyncClient, make_account: Callable[..., Any], alice: Account
) -> None:
    """transfer() reads the caller's role without a lock; two transfers at once (say, a
    double click to two people) each make their target owner: two members with role owner."""
    carol: Account = await make_account("carol@example.com")
    dave: Account = await make_account("dave@example.com")
    ids = {await user_id(client, who): who for who in (carol, dave)}
    for _attempt in range(5):
        project = await make_project(client, alice, [(carol, "editor"), (dave, "editor")])
        await asyncio.gather(
            *(
                client.post(
                    f"{PROJECTS}/{project}/transfer", json={"user_id": uid}, headers=alice.headers
                )
                for uid in ids
            )
        )
        members = await _ok(
            await client.get(f"{PROJECTS}/{project}/members", headers=carol.headers)
        )
        owners = [m for m in members["items"] if m["role"] == "owner"]
        assert len(owners) == 1, members


async def test_concurrent_bulk_label_changes_lose_one(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """Bulk label is a delta (add/remove), but _bulk_changes reads the caller's current labels
    before _apply locks the task, and then replaces the whole set: two concurrent additions
    of different labels keep only one."""
    project = await make_project(client, alice)
    red = await _ok(
        await client.post(f"{API}/labels", json={"name": "red"}, headers=alice.headers), 201
    )
    blue = await _ok(
        await client.post(f"{API}/labels", json={"name": "blue"}, headers=alice.headers), 201
    )
    for _attempt in range(5):
        task = await make_task(client, alice, project)
        await asyncio.gather(
            *(
                client.post(
                    f"{TASKS}/bulk",
                    json={"action": "label", "items": [{"id": task}], "add_labels": [label["id"]]},
                    headers=alice.headers,
                )
                for label in (red, blue)
            )
        )
        labels = set((await _get(client, alice, task))["labels"])
        assert labels == {red["id"], blue["id"]}, "one of the two additions was lost"


async def test_assigning_a_member_while_they_are_removed_leaves_an_outsider_assigned(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    """remove_member() unassigns the member's tasks it can see; a concurrent PATCH that
    checked bob's membership before the removal commits an assignment to a non-member."""
    bob_id = await user_id(client, bob)
    for _attempt in range(5):
        project = await make_project(client, alice, [(bob, "editor")])
        task = await make_task(client, alice, project)
        await asyncio.gather(
            _patch(client, alice, task, assignee_id=bob_id),
            client.delete(f"{PROJECTS}/{project}/members/{bob_id}", headers=alice.headers),
        )
        assert (await _get(client, alice, task))["assignee_id"] != bob_id, (
            "the task is assigned to someone who is no longer a member"
        )


# --- SQLite and PostgreSQL disagree ---------------------------------------------------------


async def test_the_text_filter_ignores_case_beyond_ascii_on_both_backends(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """GET /tasks?q= uses ILIKE, which SQLAlchemy renders on SQLite as lower(x) LIKE lower(y);
    SQLite's lower() folds ASCII only, so "äpfel" finds "Äpfel kaufen" on PostgreSQL only."""
    task = await _task(client, alice, title="Äpfel kaufen")
    assert task["id"] in await _list_ids(client, alice, q="äpfel")


# --- Roles -----------------------------------------------------------------------------------


async def test_a_viewer_patch_without_fields_is_answered_200_not_403(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    """TaskService.update short-circuits an empty patch to get(), which needs only READ: a
    viewer's PATCH {} (or {"children": "keep"}) is a 200 with an ETag, where docs/projects.md
    promises 403 insufficient-role for writes a role does not allow."""
    project = await make_project(client, alice, [(bob, "viewer")])
    task = await make_task(client, alice, project)
    response = await _patch(client, bob, task, children="keep")
    assert response.status_code == 403, response.text


async def test_moving_a_task_drops_the_reminders_of_those_who_cannot_see_it_there(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    shared = await make_project(client, alice)
    await _ok(
        await client.post(
            f"/api/v1/projects/{shared}/members",
            json={"email": bob.email, "role": "viewer"},
            headers=alice.headers,
        ),
        201,
    )
    private = await make_project(client, alice)
    task = (await _task(client, alice, project_id=shared, due_date="2030-01-01"))["id"]
    url = f"{TASKS}/{task}/reminders"
    await _ok(await client.post(url, json={"minutes_before": 5}, headers=bob.headers), 201)
    await _ok(await client.post(url, json={"minutes_before": 5}, headers=alice.headers), 201)
    await _ok(await _patch(client, alice, task, project_id=private))
    assert len((await _ok(await client.get(url, headers=alice.headers)))["items"]) == 1
    # Back in the shared project, Bob sees the task again but his reminder is gone.
    await _ok(await _patch(client, alice, task, project_id=shared))
    assert (await _ok(await client.get(url, headers=bob.headers)))["items"] == []


async def test_bulk_labels_respect_the_per_task_limit(
    client: httpx.AsyncClient, alice: Account
) -> None:
    from taskwell.tasks.models import LABELS_PER_TASK_MAX

    ids = [
        (
            await _ok(
                await client.post("/api/v1/labels", json={"name": f"l{i}"}, headers=alice.headers),
                201,
            )
        )["id"]
        for i in range(LABELS_PER_TASK_MAX + 1)
    ]
    task = (await _task(client, alice, labels=ids[:LABELS_PER_TASK_MAX]))["id"]
    response = await client.post(
        f"{TASKS}/bulk",
        json={"action": "label", "items": [{"id": task}], "add_labels": [ids[-1]]},
        headers=alice.headers,
    )
    assert response.status_code == 409, response.text
    assert response.json()["results"][0]["status"] == 422


async def test_concurrent_sections_stop_at_the_limit(
    client: httpx.AsyncClient, alice: Account, app: FastAPI
) -> None:
    project = await make_project(client, alice)
    limit = app.state.context.settings.sections_max_per_project
    url = f"/api/v1/projects/{project}/sections"
    for i in range(limit - 2):
        await _ok(await client.post(url, json={"name": f"s{i}"}, headers=alice.headers), 201)
    answers = await asyncio.gather(
        *(client.post(url, json={"name": f"race{i}"}, headers=alice.headers) for i in range(6))
    )
    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
    listed = await _ok(await client.get(url, headers=alice.headers))
    assert len(listed["items"]) == limit
