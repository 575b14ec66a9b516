"""Task reads are cached per owner; every write invalidates exactly what it changed."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.conftest import Account

TASKS = "/api/v1/tasks"


def _hits(app: FastAPI) -> int:
    hits: int = app.state.context.cache.hits
    return hits


async def test_repeated_reads_are_served_from_the_cache(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    task = (await client.post(TASKS, json={"title": "cached"}, headers=alice.headers)).json()
    first_list = await client.get(TASKS, headers=alice.headers)
    first_task = await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)
    before = _hits(app)

    assert (await client.get(TASKS, headers=alice.headers)).content == first_list.content
    again = await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    assert again.content == first_task.content
    assert again.headers["etag"] == first_task.headers["etag"]
    assert _hits(app) == before + 2


async def test_a_write_is_read_back_at_once_in_lists_and_single_reads(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = (await client.post(TASKS, json={"title": "old"}, headers=alice.headers)).json()
    await client.get(TASKS, headers=alice.headers)
    await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)

    await client.patch(f"{TASKS}/{task['id']}", json={"title": "new"}, headers=alice.headers)

    single = (await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)).json()
    listed = (await client.get(TASKS, headers=alice.headers)).json()["items"]
    assert single["title"] == "new"
    assert single["version"] == 2
    assert [t["title"] for t in listed] == ["new"]


async def test_creates_and_deletes_show_in_cached_lists(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = (await client.post(TASKS, json={"title": "one"}, headers=alice.headers)).json()
    assert len((await client.get(TASKS, headers=alice.headers)).json()["items"]) == 1

    await client.post(TASKS, json={"title": "two"}, headers=alice.headers)
    assert len((await client.get(TASKS, headers=alice.headers)).json()["items"]) == 2

    await client.delete(f"{TASKS}/{first['id']}", headers=alice.headers)
    assert [
        t["title"] for t in (await client.get(TASKS, headers=alice.headers)).json()["items"]
    ] == ["two"]
    assert (await client.get(f"{TASKS}/{first['id']}", headers=alice.headers)).status_code == 404


async def test_one_owners_cache_never_answers_another(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await client.post(TASKS, json={"title": "alice's secret"}, headers=alice.headers)
    assert len((await client.get(TASKS, headers=alice.headers)).json()["items"]) == 1

    bobs = await client.get(TASKS, headers=bob.headers)

    assert bobs.json()["items"] == []
    assert "secret" not in bobs.text


async def test_a_write_only_touches_the_caches_of_those_who_can_see_it(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    # One tag per reader: a change anyone makes in a project they share (a task, a label,
    # a membership) makes all their cached reads unreachable; others' caches stay.
    one = (await client.post(TASKS, json={"title": "one"}, headers=alice.headers)).json()
    bobs = (await client.post(TASKS, json={"title": "bob's"}, headers=bob.headers)).json()
    await client.get(f"{TASKS}/{one['id']}", headers=alice.headers)
    await client.get(f"{TASKS}/{bobs['id']}", headers=bob.headers)
    await client.patch(f"{TASKS}/{bobs['id']}", json={"priority": 3}, headers=bob.headers)
    before = _hits(app)

    await client.get(f"{TASKS}/{one['id']}", headers=alice.headers)
    assert _hits(app) == before + 1

    await client.get(f"{TASKS}/{bobs['id']}", headers=bob.headers)
    assert _hits(app) == before + 1


async def test_conditional_reads_are_answered_from_the_cache(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    task = (await client.post(TASKS, json={"title": "etag"}, headers=alice.headers)).json()
    listed = await client.get(TASKS, headers=alice.headers)
    single = await client.get(f"{TASKS}/{task['id']}", headers=alice.headers)
    before = _hits(app)

    not_modified_list = await client.get(
        TASKS, headers={**alice.headers, "If-None-Match": listed.headers["etag"]}
    )
    not_modified_task = await client.get(
        f"{TASKS}/{task['id']}", headers={**alice.headers, "If-None-Match": single.headers["etag"]}
    )

    assert not_modified_list.status_code == 304
    assert not_modified_task.status_code == 304
    assert _hits(app) == before + 2
