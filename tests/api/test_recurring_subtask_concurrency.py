"""A recurring task and its recurring subtask completed at the same moment, by two requests:
each series goes on exactly once, and both requests succeed (PostgreSQL; SQLite runs one
writer at a time).

A third session holding the subtask's row for a moment (a plain row lock, what any PATCH of
it does) is only what lines the two requests up deterministically: the subtask's own
completion queues first, the parent's arrives while it waits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.api.test_recurring_subtasks import TASKS, _ok, _weekly_with_a_daily_subtask
from tests.conftest import Account
from tests.support.row_locks import lined_up_behind


async def _all_tasks(client: httpx.AsyncClient, who: Account) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    for _ in range(20):  # bounded
        params: dict[str, Any] = {"limit": 200, "status": ["todo", "done"]}
        if cursor:
            params["cursor"] = cursor
        body = await _ok(await client.get(TASKS, params=params, headers=who.headers))
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items
    raise AssertionError("too many pages")


@pytest.mark.parametrize("children", ["complete", "keep"])
async def test_completing_a_recurring_parent_and_its_recurring_subtask_at_once(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, children: str
) -> None:
    db = app.state.context.db
    if db.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite serialises writers")
    parent, child = await _weekly_with_a_daily_subtask(client, alice)
    done = {"status": "done", "children": children}
    own_response, whole_response = await lined_up_behind(
        db,
        child["id"],
        lambda: client.patch(f"{TASKS}/{child['id']}", json=done, headers=alice.headers),
        lambda: client.patch(f"{TASKS}/{parent['id']}", json=done, headers=alice.headers),
    )

    assert own_response.status_code == 200, own_response.text
    assert whole_response.status_code == 200, whole_response.text
    everything = await _all_tasks(client, alice)
    series = [
        (t["title"], t["status"], t["parent_id"], t["recurrence"])
        for t in everything
        if t["title"] == "stretch"
    ]
    going_on = [t for t in everything if t["title"] == "stretch" and t["recurrence"]]
    assert len(going_on) == 1, series
    assert going_on[0]["status"] == "todo", series
    weeks = [t for t in everything if t["title"] == "week" and t["recurrence"]]
    assert [w["status"] for w in weeks] == ["todo"]
