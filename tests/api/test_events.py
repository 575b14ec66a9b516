"""GET /events: changes pushed as server-sent events, resumable by Last-Event-ID.

The app is served by a real uvicorn (tests/support/live.py), in the test's loop, so writes made
through the ASGI client and the stream share one app: in-process wake-ups on SQLite, Redis
pub/sub on the PostgreSQL run. Streams here poll only once a minute by themselves, so a change
that arrives within seconds was pushed by a wake-up, not found by a poll.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.changes.feed import Token
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem
from tests.support.live import EventReader, open_events, serve
from tests.support.sharing import PROJECTS, TASKS, make_project, make_task

EVENTS = "/api/v1/events"
PUSHED_WITHIN = 3.0  # seconds; the stream's own poll is 60 s


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(
        argon2_memory_kib=8,
        argon2_time_cost=1,
        events_poll_seconds=60,
        events_heartbeat_seconds=30,
    )


@pytest.fixture
async def live(app: FastAPI) -> AsyncIterator[str]:
    async with serve(app) as base_url:
        yield base_url


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json() if response.content else None


async def _changes(reader: EventReader, want: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
    """The first change pushed that `want` accepts (within PUSHED_WITHIN seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PUSHED_WITHIN
    while True:
        event = await reader.until("changes", max(0.01, deadline - loop.time()))
        assert event.id == event.json()["token"]
        for change in event.json()["changes"]:
            if want(change):
                return change


def _is(entity: str, entity_id: str, op: str = "upsert") -> Callable[[dict[str, Any]], bool]:
    return lambda c: c["entity"] == entity and c["id"] == entity_id and c["op"] == op


async def test_a_stream_starts_ready_with_a_token(
    live: str, alice: Account, client: httpx.AsyncClient
) -> None:
    async with open_events(live, alice.headers) as reader:
        assert reader.response.headers["content-type"].startswith("text/event-stream")
        assert reader.response.headers["cache-control"] == "no-store"
        assert reader.response.headers["x-accel-buffering"] == "no"
        ready = await reader.until("ready")
        assert reader.retry is not None
        assert reader.retry > 0
        assert ready.id == ready.json()["token"]
        # The token is a sync token: nothing has changed since it.
        body = await _ok(
            await client.get("/api/v1/sync", params={"since": ready.id}, headers=alice.headers)
        )
        assert body["changes"] == []


async def test_a_task_change_is_pushed_to_every_member_at_once(
    live: str, client: httpx.AsyncClient, alice: Account, bob: Account, make_account: Any
) -> None:
    carol = await make_account("carol@example.com")
    project = await make_project(client, alice, [(bob, "editor")])
    async with (
        open_events(live, alice.headers) as alices,
        open_events(live, bob.headers) as bobs,
        open_events(live, carol.headers) as carols,
    ):
        for reader in (alices, bobs, carols):
            await reader.until("ready")
        task_id = await make_task(client, bob, project, "Water the roses")
        for reader in (alices, bobs):
            change = await _changes(reader, _is("task", task_id))
            assert change["data"]["title"] == "Water the roses"
        await _ok(
            await client.patch(f"{TASKS}/{task_id}", json={"title": "Prune"}, headers=alice.headers)
        )
        change = await _changes(bobs, _is("task", task_id))
        assert change["data"]["title"] == "Prune"
        await _ok(await client.delete(f"{TASKS}/{task_id}", headers=bob.headers), 204)
        await _changes(alices, _is("task", task_id, "delete"))
        # Carol is no member: her stream carries none of it.
        await make_task(client, carol, (await _inbox(client, carol)), "Her own")
        event = await carols.until("changes")
        assert {c["data"]["title"] for c in event.json()["changes"]} == {"Her own"}


async def _inbox(client: httpx.AsyncClient, who: Account) -> str:
    projects = await _ok(await client.get(PROJECTS, headers=who.headers))
    items = projects["items"] if isinstance(projects, dict) else projects
    return str(next(p["id"] for p in items if p["is_inbox"]))


async def test_projects_memberships_sections_comments_and_labels_are_pushed(
    live: str, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    project = await make_project(client, alice)
    task_id = await make_task(client, alice, project)
    async with open_events(live, bob.headers) as bobs, open_events(live, alice.headers) as alices:
        await bobs.until("ready")
        await alices.until("ready")
        # Membership: Bob is invited and sees the project arrive.
        await _ok(
            await client.post(
                f"{PROJECTS}/{project}/members",
                json={"email": bob.email, "role": "viewer"},
                headers=alice.headers,
            ),
            201,
        )
        await _changes(bobs, _is("project", project))
        # A role change reaches the member.
        bob_id = (await _ok(await client.get("/api/v1/users/me", headers=bob.headers)))["id"]
        await _ok(
            await client.patch(
                f"{PROJECTS}/{project}/members/{bob_id}",
                json={"role": "editor"},
                headers=alice.headers,
            )
        )
        change = await _changes(bobs, _is("project", project))
        assert change["data"]["role"] == "editor"
        # The project itself.
        await _ok(
            await client.patch(
                f"{PROJECTS}/{project}", json={"name": "Yard"}, headers=alice.headers
            )
        )
        change = await _changes(bobs, _is("project", project))
        assert change["data"]["name"] == "Yard"
        # Sections, created and renamed.
        section = await _ok(
            await client.post(
                f"{PROJECTS}/{project}/sections", json={"name": "Soon"}, headers=alice.headers
            ),
            201,
        )
        await _changes(bobs, _is("section", section["id"]))
        await _ok(
            await client.patch(
                f"{PROJECTS}/{project}/sections/{section['id']}",
                json={"name": "Later"},
                headers=alice.headers,
            )
        )
        change = await _changes(bobs, _is("section", section["id"]))
        assert change["data"]["name"] == "Later"
        # Comments, written, edited and deleted.
        comment = await _ok(
            await client.post(
                f"{TASKS}/{task_id}/comments",
                json={"body": "Mind the thorns"},
                headers=alice.headers,
            ),
            201,
        )
        await _changes(bobs, _is("comment", comment["id"]))
        await _ok(
            await client.patch(
                f"{TASKS}/{task_id}/comments/{comment['id']}",
                json={"body": "Mind the thorns!"},
                headers=alice.headers,
            )
        )
        change = await _changes(bobs, _is("comment", comment["id"]))
        assert change["data"]["body"] == "Mind the thorns!"
        await _ok(
            await client.delete(
                f"{TASKS}/{task_id}/comments/{comment['id']}", headers=alice.headers
            ),
            204,
        )
        await _changes(bobs, _is("comment", comment["id"], "delete"))
        # Labels are their owner's alone: created and renamed reach Alice's stream.
        label = await _ok(
            await client.post("/api/v1/labels", json={"name": "roses"}, headers=alice.headers), 201
        )
        await _changes(alices, _is("label", label["id"]))
        await _ok(
            await client.patch(
                f"/api/v1/labels/{label['id']}", json={"name": "tulips"}, headers=alice.headers
            )
        )
        change = await _changes(alices, _is("label", label["id"]))
        assert change["data"]["name"] == "tulips"
        # Bob leaves: his stream gets the project's tombstone.
        await _ok(
            await client.delete(f"{PROJECTS}/{project}/members/{bob_id}", headers=bob.headers), 204
        )
        await _changes(bobs, _is("project", project, "delete"))


async def test_reconnecting_with_last_event_id_replays_what_was_missed(
    live: str, client: httpx.AsyncClient, alice: Account
) -> None:
    async with open_events(live, alice.headers) as reader:
        last = (await reader.until("ready")).id
        first = await _ok(
            await client.post(TASKS, json={"title": "one"}, headers=alice.headers), 201
        )
        event = await reader.until("changes")
        assert [c["id"] for c in event.json()["changes"]] == [first["id"]]
        last = event.id
    assert last is not None
    # Offline for a while: three changes happen.
    missed = [
        (await _ok(await client.post(TASKS, json={"title": f"t{i}"}, headers=alice.headers), 201))[
            "id"
        ]
        for i in range(3)
    ]
    await _ok(await client.delete(f"{TASKS}/{first['id']}", headers=alice.headers), 204)
    async with open_events(live, {**alice.headers, "Last-Event-ID": last}) as reader:
        replayed = await reader.until("changes")
        ops = {(c["id"], c["op"]) for c in replayed.json()["changes"]}
        assert ops == {*((m, "upsert") for m in missed), (first["id"], "delete")}
        ready = await reader.until("ready")
        assert ready.id == replayed.id
    # `since` does the same for clients that cannot set the header.
    async with open_events(live, alice.headers, since=last) as reader:
        replayed_again = await reader.until("changes")
        assert {(c["id"], c["op"]) for c in replayed_again.json()["changes"]} == ops


async def test_an_id_outside_the_replay_window_or_not_ours_gets_resync(
    live: str, client: httpx.AsyncClient, alice: Account, settings: Settings
) -> None:
    async with open_events(live, alice.headers) as reader:
        token = Token.decode((await reader.until("ready")).id or "")
    stale = Token(token.low, time.time() - settings.events_replay_seconds - 60).encode()
    async with open_events(live, {**alice.headers, "Last-Event-ID": stale}) as reader:
        resync = await reader.until("resync")
        assert resync.json()["reason"] == "expired"
        assert resync.id == resync.json()["token"]
        await reader.until("ready")
        # It goes on live from the fresh token.
        created = await _ok(
            await client.post(TASKS, json={"title": "x"}, headers=alice.headers), 201
        )
        await _changes(reader, _is("task", created["id"]))
    for foreign in ("not-a-token", Token(2**63 + 5, time.time()).encode()):
        async with open_events(live, {**alice.headers, "Last-Event-ID": foreign}) as reader:
            assert (await reader.until("resync")).json()["reason"] == "invalid"


async def test_heartbeats_and_the_stream_ends_once_the_session_does(
    app: FastAPI,
    settings_factory: Callable[..., Settings],
    client: httpx.AsyncClient,
    alice: Account,
) -> None:
    async with serve(app) as live:
        app.state.context.events._heartbeat = 0.2
        async with open_events(live, alice.headers) as reader:
            await reader.until("ready")
            beat = await reader.next(3)
            assert beat.comments == ["ping"]
            assert beat.event is None
            await _ok(await client.post("/api/v1/auth/logout", headers=alice.headers), 204)
            assert await reader.ended(3)


async def test_streams_per_user_are_limited(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    app.state.context.events._per_user = 2
    async with serve(app) as live:
        async with open_events(live, alice.headers) as one, open_events(live, alice.headers) as two:
            await one.until("ready")
            await two.until("ready")
            async with httpx.AsyncClient(base_url=live) as http:
                refused = await http.get(EVENTS, headers=alice.headers)
                assert_problem(refused, 429, "too-many-streams")
            # Someone else is not affected.
            async with open_events(live, bob.headers) as bobs:
                await bobs.until("ready")
        # Closed streams give their slots back.
        async with open_events(live, alice.headers) as again:
            await again.until("ready")


async def test_needs_a_signed_in_reader(live: str) -> None:
    async with httpx.AsyncClient(base_url=live) as http:
        assert_problem(await http.get(EVENTS), 401)


async def test_event_streams_are_never_compressed(live: str, alice: Account) -> None:
    async with open_events(live, {**alice.headers, "Accept-Encoding": "gzip, br"}) as reader:
        assert "content-encoding" not in reader.response.headers
        await reader.until("ready")


async def test_a_change_held_back_by_a_running_transaction_comes_when_it_ends(
    live: str, app: FastAPI, client: httpx.AsyncClient, alice: Account, database_url: str
) -> None:
    """PostgreSQL: a stream's window ends below every transaction still running, so a change
    committed behind an older open transaction is not readable at its wake-up. The stream
    looks again shortly after (not only at its minute's poll) and sends it once it is."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's writers take turns: nothing is ever held back")
    async with open_events(live, alice.headers) as reader:
        await reader.until("ready")
        async with app.state.context.db.engine.connect() as blocker:
            # An open transaction with an id, older than the change below.
            await blocker.execute(sa.text("SELECT pg_current_xact_id()"))
            created = await _ok(
                await client.post(TASKS, json={"title": "held"}, headers=alice.headers), 201
            )
            await asyncio.sleep(0.3)
            await blocker.rollback()
        await _changes(reader, _is("task", created["id"]))


async def test_the_database_away_mid_stream_ends_the_stream_cleanly(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, caplog: pytest.LogCaptureFixture
) -> None:
    """After the status line there is no 503 to give: the stream ends, properly, and the
    client reconnects from its Last-Event-ID (nothing is lost); no error is logged."""
    sync = app.state.context.sync
    real_page = sync.page
    away = False

    async def page(*args: Any, **kwargs: Any) -> Any:
        if away:
            raise sa.exc.OperationalError("SELECT", {}, ConnectionError("the database is away"))
        return await real_page(*args, **kwargs)

    sync.page = page
    try:
        async with serve(app) as live, open_events(live, alice.headers) as reader:
            ready = await reader.until("ready")
            away = True
            made = await make_project(client, alice)  # wakes the stream
            assert await reader.ended(PUSHED_WITHIN)
            away = False
            assert ready.id is not None
            async with open_events(live, {**alice.headers, "Last-Event-ID": ready.id}) as again:
                change = await _changes(again, _is("project", made))
    finally:
        sync.page = real_page
    assert change["data"]["name"] == "Garden"
    assert "event stream ended: the database is unavailable" in caplog.text
    assert not [r for r in caplog.records if r.levelname in ("ERROR", "CRITICAL")]
