"""Recurring subtasks at the edges: a subtask's own series, COUNT and UNTIL handed on, a move
in the same change, series inside series."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.test_activity import activity
from tests.api.test_recurring_subtasks import (
    TASKS,
    _children,
    _get,
    _ok,
    _task,
    _weekly_with_a_daily_subtask,
)
from tests.conftest import Account
from tests.support.sharing import make_project


async def _patch(
    client: httpx.AsyncClient, who: Account, task_id: str, **fields: Any
) -> dict[str, Any]:
    body: dict[str, Any] = await _ok(
        await client.patch(f"{TASKS}/{task_id}", json=fields, headers=who.headers)
    )
    return body


async def test_a_recurring_subtask_done_on_its_own_comes_back_once_not_once_per_occurrence(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """A daily subtask of a weekly task is completed on its own during the week (each
    completion leaves a done occurrence and an open next one under the parent). The parent's
    next occurrence should hold the checklist item once, not once per day it was done."""
    parent, child = await _weekly_with_a_daily_subtask(client, alice)
    current = child["id"]
    for _ in range(3):  # Monday, Tuesday, Wednesday
        done = await _patch(client, alice, current, status="done")
        current = done["next_occurrence_id"]
        assert current is not None

    following = (await _patch(client, alice, parent["id"], status="done"))["next_occurrence_id"]

    copies = await _children(client, alice, following)
    assert [c["title"] for c in copies] == ["stretch"], [
        (c["title"], c["due_date"], c["recurrence"]) for c in copies
    ]


async def test_a_handed_over_count_rule_counts_down(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """COUNT counts the occurrences left, this one included; each completion carries the rule
    on with one fewer (recurrence.py). A subtask's copy is its next occurrence, so it must
    carry COUNT one lower, and the last occurrence's copy no rule at all."""
    parent = await _task(
        client, alice, title="month", due_date="2026-12-01", recurrence="FREQ=MONTHLY"
    )
    three = await _task(
        client,
        alice,
        title="three left",
        parent_id=parent["id"],
        due_date="2026-12-02",
        recurrence="FREQ=WEEKLY;COUNT=3",
    )
    last = await _task(
        client,
        alice,
        title="last one",
        parent_id=parent["id"],
        due_date="2026-12-02",
        recurrence="FREQ=WEEKLY;COUNT=1",
    )
    # The same subtask completed on its own shows what the series does.
    alone = await _task(
        client, alice, title="alone", due_date="2026-12-02", recurrence="FREQ=WEEKLY;COUNT=1"
    )
    assert (await _patch(client, alice, alone["id"], status="done"))["next_occurrence_id"] is None

    done = await _patch(client, alice, parent["id"], status="done")

    copies = {c["title"]: c for c in await _children(client, alice, done["next_occurrence_id"])}
    assert copies["three left"]["recurrence"] == "FREQ=WEEKLY;COUNT=2"
    assert copies["last one"]["recurrence"] is None
    assert (await _get(client, alice, three["id"]))["recurrence"] is None
    assert (await _get(client, alice, last["id"]))["recurrence"] is None


async def test_completing_and_moving_a_recurring_task_keeps_its_copies_in_its_project(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """One PATCH completes a recurring task and moves it to another project. Its next
    occurrence is created in the new project; the copies of its subtasks must be there too
    (a subtask lives in its parent's project), not left in the old one under a parent that
    is elsewhere."""
    old = await make_project(client, alice)
    new = await make_project(client, alice)
    parent = await _task(
        client,
        alice,
        title="review",
        project_id=old,
        due_date="2026-12-04",
        recurrence="FREQ=WEEKLY",
    )
    await _task(client, alice, title="step", project_id=old, parent_id=parent["id"])

    done = await _patch(client, alice, parent["id"], status="done", project_id=new)

    following = await _get(client, alice, done["next_occurrence_id"])
    assert following["project_id"] == new
    copies = await _children(client, alice, following["id"])
    assert [c["title"] for c in copies] == ["step"]
    assert copies[0]["project_id"] == new
    # The old project holds none of the series' tasks any more.
    listed = await _ok(
        await client.get(TASKS, params={"project_id": old, "limit": 200}, headers=alice.headers)
    )
    assert listed["items"] == []


async def test_recurring_subtasks_of_a_recurring_subtask_go_on_once_when_a_plain_parent_is_done(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """A plain task with a weekly subtask S, itself with a daily subtask G; completing the
    plain task completes both, and each recurring one goes on to its next occurrence. Which
    of S and G is handled first depends on the order `complete` returns their ids in (an
    unordered `id IN (...)`): when G comes first, G's next occurrence G2 is created under the
    done S, then S's copy takes both G (no rule) and G2 (the rule), and G2 stays open under
    the done S. Here G is made to come first (the lower id, and the earlier heap row)."""
    root = await _task(client, alice, title="plain")
    s = None
    for _ in range(40):  # bounded: an id in the upper half comes half the time
        candidate = await _task(
            client,
            alice,
            title="S",
            parent_id=root["id"],
            due_date="2026-12-07",
            recurrence="FREQ=WEEKLY",
        )
        if candidate["id"] >= "8":  # so that a lower id for G comes at least half the time
            s = candidate
            break
        await _ok(await client.delete(f"{TASKS}/{candidate['id']}", headers=alice.headers), 204)
    assert s is not None
    g = None
    for _ in range(40):  # bounded: a lower id than S's comes at least half the time
        candidate = await _task(
            client,
            alice,
            title="G",
            parent_id=s["id"],
            due_date="2026-12-07",
            recurrence="FREQ=DAILY",
        )
        if candidate["id"] < s["id"]:
            g = candidate
            break
        await _ok(await client.delete(f"{TASKS}/{candidate['id']}", headers=alice.headers), 204)
    assert g is not None
    await _patch(client, alice, s["id"], title="S")  # S's row now comes after G's in the heap

    await _patch(client, alice, root["id"], status="done")

    s_done = await _get(client, alice, s["id"])
    following = s_done["next_occurrence_id"]
    assert following is not None
    copies = await _children(client, alice, following)
    assert [(c["title"], c["recurrence"]) for c in copies] == [("G", "FREQ=DAILY")]
    left_open = [c for c in await _children(client, alice, s["id"]) if c["status"] != "done"]
    assert left_open == []


async def test_a_handed_over_rule_past_its_until_ends_the_series(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """UNTIL is inclusive and ends the series: a weekly subtask until 10 December, due on 2
    December, has its last occurrence on 9 December. Its copy under the monthly parent's next
    occurrence is due 2 January, past UNTIL, yet it is handed the rule: an occurrence of a
    series that has ended."""
    parent = await _task(
        client, alice, title="month", due_date="2026-12-01", recurrence="FREQ=MONTHLY"
    )
    await _task(
        client,
        alice,
        title="until",
        parent_id=parent["id"],
        due_date="2026-12-02",
        recurrence="FREQ=WEEKLY;UNTIL=20261210",
    )
    done = await _patch(client, alice, parent["id"], status="done")
    [copy] = await _children(client, alice, done["next_occurrence_id"])
    assert copy["due_date"] == "2027-01-02"
    assert copy["recurrence"] is None


async def test_a_subtask_that_hands_its_rule_on_says_so_in_its_activity(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """The original loses its rule to its copy under the parent's next occurrence: its history
    tells where the series went, as every other change of a task does."""
    parent, child = await _weekly_with_a_daily_subtask(client, alice)

    following = (await _patch(client, alice, parent["id"], status="done"))["next_occurrence_id"]

    [copy] = await _children(client, alice, following)
    assert copy["recurrence"] == "FREQ=DAILY"
    entries = (await activity(client, alice, child["id"]))["items"]
    handed = [e for e in entries if "next_occurrence_id" in e["changes"]]
    assert [(e["action"], e["changes"]) for e in handed] == [
        (
            "updated",
            {"recurrence": ["FREQ=DAILY", None], "next_occurrence_id": [None, copy["id"]]},
        )
    ]
    assert {e["action"] for e in entries} == {"created", "updated", "completed"}
