"""The list's label and text filters give the same tasks however the data got there.

On PostgreSQL those filters read two columns the migrations keep beside the record:
`tasks.label_ids`, a trigger's copy of `task_labels` (labels/mirror.py), and `tasks.match_text`,
a generated lower-cased copy of title and description (tasks/text_match.py). These tests change
labels and text every way the API can and check the filters' answers on every backend; on
PostgreSQL they also check that each task's label_ids holds exactly its task_labels rows.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.db.types import utcnow
from tests.conftest import Account
from tests.support.sharing import make_project

API = "/api/v1"
TASKS = f"{API}/tasks"


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _label(client: httpx.AsyncClient, who: Account, name: str) -> str:
    body = await _ok(
        await client.post(f"{API}/labels", json={"name": name}, headers=who.headers), 201
    )
    return str(body["id"])


async def _task(client: httpx.AsyncClient, who: Account, **fields: Any) -> str:
    body = await _ok(await client.post(TASKS, json=fields, headers=who.headers), 201)
    return str(body["id"])


async def _ids(client: httpx.AsyncClient, who: Account, **params: Any) -> set[str]:
    body = await _ok(await client.get(TASKS, params={"limit": 200, **params}, headers=who.headers))
    return {t["id"] for t in body["items"]}


async def _patch(client: httpx.AsyncClient, who: Account, task: str, **fields: Any) -> Any:
    return await _ok(await client.patch(f"{TASKS}/{task}", json=fields, headers=who.headers))


async def _bulk(client: httpx.AsyncClient, who: Account, tasks: list[str], **body: Any) -> None:
    items = [{"id": t} for t in tasks]
    await _ok(
        await client.post(f"{TASKS}/bulk", json={"items": items, **body}, headers=who.headers)
    )


async def _mirror_mismatches(app: FastAPI) -> list[Any]:
    """Tasks whose label_ids is not exactly their task_labels (PostgreSQL; [] on SQLite)."""
    db = app.state.context.db
    if db.dialect.name != "postgresql":
        return []
    async with db.transaction() as conn:
        rows = await conn.execute(
            sa.text(
                "SELECT t.id, t.label_ids, m.ids FROM tasks t LEFT JOIN ("
                " SELECT task_id, array_agg(label_id ORDER BY label_id) AS ids"
                " FROM task_labels GROUP BY task_id) m ON m.task_id = t.id"
                " WHERE ARRAY(SELECT x FROM unnest(t.label_ids) x ORDER BY x)"
                " IS DISTINCT FROM coalesce(m.ids, '{}')"
            )
        )
        return list(rows.all())


async def test_label_filters_follow_every_way_labels_change(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    a, b = await _label(client, alice, "a"), await _label(client, alice, "b")
    t1 = await _task(client, alice, title="one")
    t2 = await _task(client, alice, title="two", labels=[a, b])
    t3, t4 = await _task(client, alice, title="three"), await _task(client, alice, title="four")
    await _patch(client, alice, t1, labels=[a])
    await _bulk(client, alice, [t3, t4], action="label", add_labels=[b])
    await _bulk(client, alice, [t4], action="label", remove_labels=[b])
    assert await _ids(client, alice, label=a) == {t1, t2}
    assert await _ids(client, alice, label=b) == {t2, t3}
    assert await _ids(client, alice, label=[a, b]) == {t1, t2, t3}
    assert await _mirror_mismatches(app) == []

    # A completed recurring task's next occurrence carries its labels.
    series = await _task(
        client, alice, title="weekly", labels=[b], due_date="2026-12-04", recurrence="FREQ=WEEKLY"
    )
    done = await _patch(client, alice, series, status="done")
    following = done["next_occurrence_id"]
    assert following is not None
    assert await _ids(client, alice, label=b) == {t2, t3, series, following}

    # Replacing a task's labels, then deleting a label, which leaves every task it was on.
    await _patch(client, alice, t2, labels=[b])
    assert await _ids(client, alice, label=a) == {t1}
    await _ok(await client.delete(f"{API}/labels/{a}", headers=alice.headers), 204)
    assert await _ids(client, alice, label=b) == {t2, t3, series, following}
    assert (await _ok(await client.get(f"{TASKS}/{t1}", headers=alice.headers)))["labels"] == []
    assert await _mirror_mismatches(app) == []

    # The trash hides a task from the filter; restoring it brings it back with its labels.
    await _ok(await client.delete(f"{TASKS}/{t3}", headers=alice.headers), 204)
    assert await _ids(client, alice, label=b) == {t2, series, following}
    await _ok(await client.post(f"{TASKS}/{t3}/restore", headers=alice.headers))
    assert await _ids(client, alice, label=b) == {t2, t3, series, following}
    assert await _mirror_mismatches(app) == []


async def test_each_member_filters_a_shared_task_by_their_own_labels_only(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await make_project(client, alice, [(bob, "editor")])
    mine, theirs = await _label(client, alice, "home"), await _label(client, bob, "home")
    task = await _task(client, alice, title="shared", project_id=project, labels=[mine])
    await _patch(client, bob, task, labels=[theirs])
    assert await _ids(client, alice, project_id=project, label=mine) == {task}
    assert await _ids(client, bob, project_id=project, label=theirs) == {task}
    # Another member's label is not yours to filter by, though the task carries it.
    assert await _ids(client, bob, project_id=project, label=mine) == set()
    assert await _ids(client, bob, project_id=project, label=[mine, theirs]) == {task}
    # Alice taking hers off leaves Bob's on.
    await _patch(client, alice, task, labels=[])
    assert await _ids(client, alice, project_id=project, label=mine) == set()
    assert await _ids(client, bob, project_id=project, label=theirs) == {task}
    assert await _mirror_mismatches(app) == []


async def test_concurrent_labelling_of_one_task_keeps_every_label(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    labels = [await _label(client, alice, f"l{i}") for i in range(8)]
    task = await _task(client, alice, title="busy")
    await asyncio.gather(
        *(_bulk(client, alice, [task], action="label", add_labels=[label]) for label in labels)
    )
    for label in labels:
        assert await _ids(client, alice, label=label) == {task}
    assert await _mirror_mismatches(app) == []


async def test_purging_labelled_tasks_from_the_trash_leaves_no_trace(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    label = await _label(client, alice, "x")
    project = await make_project(client, alice)
    kept = await _task(client, alice, title="kept", labels=[label])
    task = await _task(client, alice, title="gone", labels=[label])
    other = await _task(client, alice, title="in project", project_id=project, labels=[label])
    await _ok(await client.delete(f"{TASKS}/{task}", headers=alice.headers), 204)
    await _ok(await client.delete(f"{API}/projects/{project}", headers=alice.headers), 204)
    # Purging deletes the tasks, and task_labels by cascade: the mirror's trigger then
    # updates tasks that are themselves going.
    later = utcnow() + timedelta(days=400)
    ctx = app.state.context
    assert await ctx.tasks.purge_trash(later) == 1
    assert await ctx.projects.purge_trash(later) == 1
    assert await _ids(client, alice, label=label) == {kept}
    assert other not in await _ids(client, alice)
    assert await _mirror_mismatches(app) == []


# --- q: a substring of title or description, any case -------------------------------------


async def test_text_matches_title_or_description_in_any_case(
    client: httpx.AsyncClient, alice: Account
) -> None:
    title = await _task(client, alice, title="Quarterly REVIEW")
    description = await _task(client, alice, title="other", description="the quarterly review")
    await _task(client, alice, title="nothing", description="here")
    assert await _ids(client, alice, q="quarterly review") == {title, description}
    assert await _ids(client, alice, q="QUARTERLY") == {title, description}
    assert await _ids(client, alice, q="ly rev") == {title, description}
    assert await _ids(client, alice, q="zyzzyva") == set()


async def test_text_follows_edits_of_title_and_description(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await _task(client, alice, title="draft", description="first")
    await _patch(client, alice, task, title="Final", description="Second")
    assert await _ids(client, alice, q="draft") == set()
    assert await _ids(client, alice, q="first") == set()
    assert await _ids(client, alice, q="final") == {task}
    assert await _ids(client, alice, q="second") == {task}


async def test_text_never_matches_across_the_end_of_the_title(
    client: httpx.AsyncClient, alice: Account
) -> None:
    """PostgreSQL keeps title and description lower-cased in one column, a newline between
    them; a `q` holding that newline must not find a title's end and a description's start."""
    apart = await _task(client, alice, title="alpha", description="beta")
    inside = await _task(client, alice, title="x", description="alpha\nbeta")
    assert await _ids(client, alice, q="alpha\nbeta") == {inside}
    assert await _ids(client, alice, q="ALPHA\nB") == {inside}
    assert await _ids(client, alice, q="alpha") == {apart, inside}


@pytest.mark.parametrize("q", ["50%", "a_b", "back\\slash"])
async def test_text_wildcards_are_literal(
    client: httpx.AsyncClient, alice: Account, q: str
) -> None:
    match = await _task(client, alice, title=f"has {q} in it")
    await _task(client, alice, title="has 50 percent, aXb and backslash")
    assert await _ids(client, alice, q=q) == {match}
