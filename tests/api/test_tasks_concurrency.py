"""Requests racing each other: one winner per version, one task per idempotency key."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

TASKS = "/api/v1/tasks"
RACERS = 20


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The shared test settings with the cheapest password hash."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def create_task(client: httpx.AsyncClient, account: Account, **fields: Any) -> dict[str, Any]:
    fields.setdefault("title", "Contended")
    response = await client.post(TASKS, json=fields, headers=account.headers)
    assert response.status_code == 201, response.text
    task: dict[str, Any] = response.json()
    return task


async def test_concurrent_patches_with_the_same_if_match_have_one_winner(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    url = f"{TASKS}/{task['id']}"
    headers = {**alice.headers, "If-Match": '"v1"'}

    responses = await asyncio.gather(
        *(client.patch(url, json={"title": f"Writer {i}"}, headers=headers) for i in range(RACERS))
    )

    winners = [r for r in responses if r.status_code == 200]
    losers = [r for r in responses if r.status_code != 200]
    assert len(winners) == 1, [r.status_code for r in responses]
    assert len(losers) == RACERS - 1
    for loser in losers:
        assert assert_problem(loser, 412, "version-mismatch")["current_version"] == 2
        assert loser.headers["etag"] == '"v2"'
    final = (await client.get(url, headers=alice.headers)).json()
    assert final["version"] == task["version"] + 1
    assert final == winners[0].json()


async def test_concurrent_unconditional_patches_each_bump_the_version(
    client: httpx.AsyncClient, alice: Account
) -> None:
    task = await create_task(client, alice)
    url = f"{TASKS}/{task['id']}"

    responses = await asyncio.gather(
        *(client.patch(url, json={"priority": i % 5}, headers=alice.headers) for i in range(RACERS))
    )

    assert [r.status_code for r in responses] == [200] * RACERS
    assert sorted(r.json()["version"] for r in responses) == list(range(2, RACERS + 2))
    final = (await client.get(url, headers=alice.headers)).json()
    assert final["version"] == RACERS + 1


async def test_concurrent_posts_with_one_idempotency_key_create_one_task(
    client: httpx.AsyncClient, alice: Account
) -> None:
    headers = {**alice.headers, "Idempotency-Key": "burst-2031-03-01"}
    body = {"title": "Submit the report", "priority": 3}

    responses = await asyncio.gather(
        *(client.post(TASKS, json=body, headers=headers) for _ in range(RACERS))
    )

    assert [r.status_code for r in responses] == [201] * RACERS, [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    assert all(r.json() == responses[0].json() for r in responses)
    replayed = [r.headers.get("idempotent-replayed") == "true" for r in responses]
    assert replayed.count(False) == 1
    listed = (await client.get(TASKS, headers=alice.headers)).json()["items"]
    assert [task["id"] for task in listed] == [responses[0].json()["id"]]


async def test_concurrent_posts_without_a_key_create_one_task_each(
    client: httpx.AsyncClient, alice: Account
) -> None:
    responses = await asyncio.gather(
        *(client.post(TASKS, json={"title": f"T{i}"}, headers=alice.headers) for i in range(RACERS))
    )

    assert [r.status_code for r in responses] == [201] * RACERS
    listed = (await client.get(TASKS, headers=alice.headers)).json()["items"]
    assert {t["id"] for t in listed} == {r.json()["id"] for r in responses}
