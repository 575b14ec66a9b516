"""Deleting a label while a bulk change runs: the cascade's trigger updates the label's tasks
(tasks.label_ids), so both take the tasks in id order and neither waits on the other."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Account
from tests.support.row_locks import lined_up_behind

API = "/api/v1"
TASKS = f"{API}/tasks"


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def test_deleting_a_label_while_a_bulk_change_runs_does_not_deadlock(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    """Before the mirror, deleting a label only deleted task_labels rows (by cascade) and
    never locked a task. Now the trigger updates every labelled task, one by one, in the
    cascade's order, while a bulk change locks its tasks in the request's order: the two
    meet from opposite ends and PostgreSQL aborts one of them (40P01, answered 500).

    A third writer holding one task for a moment (here a plain row lock) is only what lines
    the two up deterministically; it is what any single PATCH of that task does."""
    db = app.state.context.db
    if db.dialect.name != "postgresql":
        pytest.skip("the mirror is PostgreSQL's")
    label = await _ok(
        await client.post(f"{API}/labels", json={"name": "x"}, headers=alice.headers), 201
    )
    ids = []
    for i in range(7):
        body = await _ok(
            await client.post(TASKS, json={"title": f"t{i}"}, headers=alice.headers), 201
        )
        ids.append(body["id"])
    ids.sort()  # uuid order is the index's order; labelled in it, it is also the heap's
    await _ok(
        await client.post(
            f"{TASKS}/bulk",
            json={
                "items": [{"id": t} for t in ids],
                "action": "label",
                "add_labels": [label["id"]],
            },
            headers=alice.headers,
        )
    )
    bulk_response, delete_response = await lined_up_behind(
        db,
        ids[3],
        lambda: client.post(
            f"{TASKS}/bulk",
            json={"items": [{"id": t} for t in reversed(ids)], "action": "complete"},
            headers=alice.headers,
        ),
        lambda: client.delete(f"{API}/labels/{label['id']}", headers=alice.headers),
    )
    assert (bulk_response.status_code, delete_response.status_code) == (200, 204), (
        bulk_response.text,
        delete_response.text,
    )
