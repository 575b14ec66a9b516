"""Webhook deliveries end to end: changes made over HTTP reach a real receiver on 127.0.0.1
(allowed in settings), signed, with the state GET /sync gives; failures back off and disable
the endpoint; a claim whose worker died is sent again with the same webhook-id."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.settings import Settings
from taskwell.users.models import users
from taskwell.webhooks import ssrf
from taskwell.worker.loop import Worker
from tests.conftest import Account
from tests.support.clock import Clock
from tests.support.receiver import Receiver, verify

API = "/api/v1"
WEBHOOKS = f"{API}/webhooks"
LEASE = 30.0


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_factory(
        argon2_memory_kib=8,
        argon2_time_cost=1,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
        webhook_lease_seconds=LEASE,
        **overrides,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def worker(app: FastAPI) -> AsyncIterator[Worker]:
    async with Worker.open(app.state.context) as opened:
        yield opened


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One frozen clock for everything that times deliveries."""
    frozen = Clock()
    for module in ("dispatch", "outbox", "service"):
        monkeypatch.setattr(f"taskwell.webhooks.{module}.utcnow", frozen)
    monkeypatch.setattr("taskwell.worker.loop.utcnow", frozen)
    return frozen


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    table: dict[str, list[str]] = {}

    async def resolve(host: str, port: int, executor: Executor | None = None) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    monkeypatch.setattr(ssrf, "resolve_host", resolve)
    return table


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def register(
    client: httpx.AsyncClient, account: Account, url: str, event_types: list[str]
) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types}
    created: dict[str, Any] = await _ok(
        await client.post(WEBHOOKS, json=body, headers=account.headers), 201
    )
    return created


async def log_of(client: httpx.AsyncClient, account: Account, hook: dict[str, Any]) -> list[Any]:
    page = await _ok(
        await client.get(f"{WEBHOOKS}/{hook['id']}/deliveries", headers=account.headers)
    )
    items: list[Any] = page["items"]
    return items


async def hook_state(client: httpx.AsyncClient, account: Account, hook: dict[str, Any]) -> Any:
    return await _ok(await client.get(f"{WEBHOOKS}/{hook['id']}", headers=account.headers))


async def ping(client: httpx.AsyncClient, account: Account, hook: dict[str, Any]) -> Any:
    return await _ok(
        await client.post(f"{WEBHOOKS}/{hook['id']}/test", headers=account.headers), 202
    )


# --- what arrives --------------------------------------------------------------------------


async def test_a_ping_arrives_signed_under_its_delivery_id(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["task.*"])
    queued = await ping(client, alice, hook)

    await worker.run_until_idle()

    [received] = receiver.requests
    assert verify(hook["secret"], received.headers, received.body)
    assert received.id == queued["id"]
    assert abs(int(received.headers["webhook-timestamp"]) - time.time()) < 60
    assert received.headers["content-type"] == "application/json"
    assert received.headers["user-agent"].startswith("Taskwell-Webhooks/")
    assert received.json()["type"] == "webhook.ping"
    assert received.json()["data"] == {"webhook_id": hook["id"]}
    [logged] = await log_of(client, alice, hook)
    assert logged["state"] == "delivered"
    assert logged["attempt_count"] == 1
    [attempt] = logged["attempts"]
    assert attempt["status_code"] == 200
    assert attempt["error"] is None
    assert attempt["next_retry_at"] is None
    assert attempt["duration_ms"] >= 0


async def test_a_changed_task_arrives_with_its_current_state(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["task.*"])
    task = await _ok(
        await client.post(f"{API}/tasks", json={"title": "Ship it"}, headers=alice.headers), 201
    )

    await worker.run_until_idle()

    [received] = receiver.requests
    body = received.json()
    assert body["type"] == "task.updated"
    assert set(body) == {"type", "timestamp", "data"}
    assert datetime.fromisoformat(body["timestamp"])
    shown = await _ok(await client.get(f"{API}/tasks/{task['id']}", headers=alice.headers))
    assert body["data"] == shown
    assert verify(hook["secret"], received.headers, received.body)


async def test_a_deleted_task_arrives_as_a_tombstone(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    task = await _ok(
        await client.post(f"{API}/tasks", json={"title": "Gone soon"}, headers=alice.headers), 201
    )
    hook = await register(client, alice, receiver.url, ["task.deleted"])
    await _ok(
        await client.patch(
            f"{API}/tasks/{task['id']}", json={"title": "Renamed"}, headers=alice.headers
        )
    )
    await worker.run_until_idle()
    deleted = await client.delete(f"{API}/tasks/{task['id']}", headers=alice.headers)
    assert deleted.status_code == 204

    await worker.run_until_idle()

    assert [r.json()["type"] for r in receiver.requests] == ["task.deleted"]
    assert receiver.requests[0].json()["data"] == {"id": task["id"]}
    assert (await hook_state(client, alice, hook))["failure_count"] == 0


async def test_only_the_chosen_event_types_are_sent(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    await register(client, alice, receiver.url, ["label.*"])
    await client.post(f"{API}/tasks", json={"title": "Not sent"}, headers=alice.headers)
    await client.post(f"{API}/labels", json={"name": "Sent"}, headers=alice.headers)

    await worker.run_until_idle()

    assert [r.json()["type"] for r in receiver.requests] == ["label.updated"]
    assert receiver.requests[0].json()["data"]["name"] == "Sent"


async def test_changes_the_owner_cannot_see_are_not_sent(
    client: httpx.AsyncClient, alice: Account, bob: Account, receiver: Receiver, worker: Worker
) -> None:
    await register(client, bob, receiver.url, ["*"])
    await client.post(f"{API}/tasks", json={"title": "Alice's own"}, headers=alice.headers)

    await worker.run_until_idle()

    assert receiver.requests == []


async def test_the_connection_goes_to_the_checked_address_with_the_urls_host(
    client: httpx.AsyncClient,
    alice: Account,
    receiver: Receiver,
    worker: Worker,
    dns: dict[str, list[str]],
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    dns["receiver.test"] = ["127.0.0.1"]
    hook = await register(client, alice, f"http://receiver.test:{port}/hooks", ["*"])
    await ping(client, alice, hook)

    await worker.run_until_idle()

    [received] = receiver.requests
    assert received.headers["host"] == f"receiver.test:{port}"


async def test_a_name_that_turns_private_after_registration_is_not_reached(
    client: httpx.AsyncClient,
    alice: Account,
    receiver: Receiver,
    worker: Worker,
    dns: dict[str, list[str]],
) -> None:
    port = receiver.url.split(":")[2].split("/")[0]
    dns["rebind.test"] = ["127.0.0.1"]
    hook = await register(client, alice, f"http://rebind.test:{port}/hooks", ["*"])
    dns["rebind.test"] = ["10.0.0.5"]  # DNS rebinding: the name now points inside
    await ping(client, alice, hook)

    await worker.run_until_idle()

    assert receiver.requests == []
    [logged] = await log_of(client, alice, hook)
    [attempt] = logged["attempts"]
    assert attempt["status_code"] is None
    assert attempt["error"].startswith("refused:")
    assert "10.0.0.5" not in attempt["error"]


async def test_redirects_are_not_followed(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    receiver.statuses.append(302)
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data"
    await ping(client, alice, hook)

    await worker.run_until_idle()

    assert len(receiver.requests) == 1
    [logged] = await log_of(client, alice, hook)
    assert logged["state"] == "pending"
    assert logged["attempts"][0]["status_code"] == 302
    assert "redirects are not followed" in logged["attempts"][0]["error"]


async def test_during_a_rotation_deliveries_carry_both_signatures(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    rotated = await _ok(
        await client.post(f"{WEBHOOKS}/{hook['id']}/rotate-secret", headers=alice.headers)
    )
    await ping(client, alice, hook)

    await worker.run_until_idle()

    [received] = receiver.requests
    assert len(received.headers["webhook-signature"].split(" ")) == 2
    assert verify(rotated["secret"], received.headers, received.body)
    assert verify(hook["secret"], received.headers, received.body)


# --- failures, back-off, disabling ---------------------------------------------------------


@pytest.mark.parametrize(
    "settings",
    [
        {
            "webhook_retry_base_seconds": 10,
            "webhook_retry_max_seconds": 3_600,
            "webhook_disable_after_failures": 3,
            "webhook_disable_after_seconds": 0,
        }
    ],
    indirect=True,
)
async def test_failures_back_off_exponentially_then_disable_the_endpoint(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker, clock: Clock
) -> None:
    receiver.statuses.extend([500] * 10)
    hook = await register(client, alice, receiver.url, ["*"])
    await ping(client, alice, hook)
    retries = []

    for delay in (0, 13, 26):
        clock.advance(timedelta(seconds=delay))
        await worker.run_until_idle()
        await worker.run_until_idle()  # not due yet: nothing more is sent
        [logged] = await log_of(client, alice, hook)
        retries.append(logged["attempts"][-1]["next_retry_at"])

    assert len(receiver.requests) == 3
    assert {r.id for r in receiver.requests} == {receiver.requests[0].id}
    [logged] = await log_of(client, alice, hook)
    attempts = logged["attempts"]
    assert [a["number"] for a in attempts] == [1, 2, 3]
    assert all(a["status_code"] == 500 and a["error"] == "answered 500" for a in attempts)
    first = datetime.fromisoformat(retries[0]) - datetime.fromisoformat(attempts[0]["at"])
    second = datetime.fromisoformat(retries[1]) - datetime.fromisoformat(attempts[1]["at"])
    assert timedelta(seconds=7.5) <= first <= timedelta(seconds=12.5)
    assert timedelta(seconds=15) <= second <= timedelta(seconds=25)
    assert retries[2] is None  # the third failure disabled the endpoint
    assert logged["state"] == "failed"
    state = await hook_state(client, alice, hook)
    assert state["enabled"] is False
    assert "3 failed attempts" in state["disabled_reason"]
    clock.advance(timedelta(hours=1))
    await worker.run_until_idle()
    assert len(receiver.requests) == 3
    audit = await _ok(
        await client.get(
            f"{API}/audit", params={"event": "webhook.disabled"}, headers=alice.headers
        )
    )
    assert [e["target"] for e in audit["items"]] == [hook["id"]]


@pytest.mark.parametrize(
    "settings",
    [{"webhook_max_attempts": 2, "webhook_disable_after_failures": 100}],
    indirect=True,
)
async def test_a_delivery_that_fails_every_attempt_is_given_up(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker, clock: Clock
) -> None:
    receiver.statuses.extend([503, 503])
    hook = await register(client, alice, receiver.url, ["*"])
    await ping(client, alice, hook)

    await worker.run_until_idle()
    clock.advance(timedelta(hours=1))
    await worker.run_until_idle()
    clock.advance(timedelta(hours=1))
    await worker.run_until_idle()

    assert len(receiver.requests) == 2
    [logged] = await log_of(client, alice, hook)
    assert logged["state"] == "failed"
    assert logged["next_attempt_at"] is None
    assert logged["finished_at"] is not None
    state = await hook_state(client, alice, hook)
    assert state["enabled"] is True
    assert state["failure_count"] == 2


@pytest.mark.parametrize(
    "settings",
    [{"webhook_disable_after_failures": 2, "webhook_disable_after_seconds": 600}],
    indirect=True,
)
async def test_an_endpoint_is_disabled_only_after_failing_for_a_while(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker, clock: Clock
) -> None:
    receiver.statuses.extend([500] * 10)
    hook = await register(client, alice, receiver.url, ["*"])
    for _ in range(3):
        await ping(client, alice, hook)
    await worker.run_until_idle()

    assert (await hook_state(client, alice, hook))["enabled"] is True
    clock.advance(timedelta(minutes=11))
    await worker.run_until_idle()
    state = await hook_state(client, alice, hook)
    assert state["enabled"] is False
    assert state["failure_count"] >= 4


async def test_a_success_forgets_earlier_failures(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker, clock: Clock
) -> None:
    receiver.statuses.append(500)
    hook = await register(client, alice, receiver.url, ["*"])
    await ping(client, alice, hook)
    await worker.run_until_idle()
    assert (await hook_state(client, alice, hook))["failure_count"] == 1

    clock.advance(timedelta(minutes=5))
    await worker.run_until_idle()

    assert (await hook_state(client, alice, hook))["failure_count"] == 0
    [logged] = await log_of(client, alice, hook)
    assert logged["state"] == "delivered"
    assert [a["status_code"] for a in logged["attempts"]] == [500, 200]


async def test_an_unreachable_receiver_is_a_failed_attempt(
    client: httpx.AsyncClient, alice: Account, worker: Worker
) -> None:
    closed = Receiver().start()
    url = closed.url
    closed.stop()
    hook = await register(client, alice, url, ["*"])
    await ping(client, alice, hook)

    await worker.run_until_idle()

    [logged] = await log_of(client, alice, hook)
    assert logged["attempts"][0]["status_code"] is None
    assert logged["attempts"][0]["error"].startswith("could not connect")


# --- at least once -------------------------------------------------------------------------


async def test_a_claim_whose_worker_died_is_sent_again_after_its_lease(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, receiver: Receiver, clock: Clock
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    await ping(client, alice, hook)
    ctx = app.state.context
    async with Worker.open(ctx) as dead, Worker.open(ctx) as alive:
        [claimed] = await dead.dispatcher.claim(10)  # ...and the worker dies here

        await alive.run_until_idle()
        assert receiver.requests == []  # the lease still holds
        clock.advance(timedelta(seconds=LEASE + 1))
        await alive.run_until_idle()
        # The dead worker was only slow: its late attempt is logged, the state stays.
        await dead.dispatcher.deliver(claimed)

    assert [r.id for r in receiver.requests] == [str(claimed.id)] * 2
    assert list(receiver.processed) == [str(claimed.id)]  # the receiver drops the duplicate
    [logged] = await log_of(client, alice, hook)
    assert logged["state"] == "delivered"
    assert logged["attempt_count"] == 2


# --- the worker inside the app -------------------------------------------------------------


@pytest.mark.parametrize(
    "settings", [{"worker_in_process": True, "worker_poll_seconds": 0.2}], indirect=True
)
async def test_the_in_process_worker_delivers_on_its_own(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver
) -> None:
    hook = await register(client, alice, receiver.url, ["task.*"])
    await client.post(f"{API}/tasks", json={"title": "By itself"}, headers=alice.headers)

    arrived = await asyncio.to_thread(receiver.wait_for, 1, 15.0)

    assert arrived[0].json()["type"] == "task.updated"
    assert verify(hook["secret"], arrived[0].headers, arrived[0].body)


@pytest.mark.parametrize(
    "settings",
    [{"worker_in_process": True, "worker_poll_seconds": 60, "worker_sweep_seconds": 60}],
    indirect=True,
)
async def test_the_in_process_worker_follows_writes_without_polling(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver
) -> None:
    """A write's wake-up (the one that wakes event streams) reaches the worker too: with
    polls a minute apart, the delivery still leaves within seconds."""
    await register(client, alice, receiver.url, ["task.*"])
    await asyncio.sleep(0.5)  # the worker has looked and gone idle
    await client.post(f"{API}/tasks", json={"title": "Woken"}, headers=alice.headers)

    arrived = await asyncio.to_thread(receiver.wait_for, 1, 5.0)

    assert arrived[0].json()["data"]["title"] == "Woken"


def _ids(received: list[Any]) -> list[str]:
    return [str(uuid.UUID(r.id)) for r in received]


async def test_a_reenabled_endpoint_starts_from_now(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["task.*"])
    url = f"{WEBHOOKS}/{hook['id']}"
    await client.patch(url, json={"enabled": False}, headers=alice.headers)
    await client.post(f"{API}/tasks", json={"title": "While off"}, headers=alice.headers)
    await worker.run_until_idle()
    await client.patch(url, json={"enabled": True}, headers=alice.headers)
    await client.post(f"{API}/tasks", json={"title": "After"}, headers=alice.headers)

    await worker.run_until_idle()

    assert [r.json()["data"]["title"] for r in receiver.requests] == ["After"]
    assert len(set(_ids(receiver.requests))) == 1


async def test_enabling_again_gives_up_what_waited_from_before(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    """Enabling again starts afresh: a delivery still waiting for its retry is not sent later,
    maybe to another URL, with what its owner could see back then."""
    hook = await register(client, alice, receiver.url, ["*"])
    receiver.statuses = deque([500])
    await ping(client, alice, hook)
    await worker.run_until_idle()
    assert len(receiver.requests) == 1  # failed once, waiting for its retry
    url = f"{WEBHOOKS}/{hook['id']}"
    await client.patch(url, json={"enabled": False}, headers=alice.headers)
    await client.patch(url, json={"enabled": True}, headers=alice.headers)

    [logged] = await log_of(client, alice, hook)
    await worker.run_until_idle()

    assert logged["state"] == "failed"
    assert len(receiver.requests) == 1


async def test_deliveries_queued_when_idle_do_not_wait_for_the_poll(
    client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    receiver.statuses = deque()
    await ping(client, alice, hook)

    await worker.run_until_idle()

    assert len(receiver.requests) == 1


async def test_a_disabled_accounts_webhooks_are_not_sent(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, receiver: Receiver, worker: Worker
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    await ping(client, alice, hook)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == alice.email).values(is_active=False)
        )

    await worker.run_until_idle()

    assert receiver.requests == []


# --- one endpoint's share of the slots -------------------------------------------------------


@pytest.mark.parametrize("settings", [{"webhook_concurrency_per_endpoint": 3}], indirect=True)
async def test_one_endpoint_holds_at_most_its_share_of_the_deliveries_in_flight(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account, receiver: Receiver
) -> None:
    """An endpoint with a backlog (one that answers slowly, or never) gets at most
    TASKWELL_WEBHOOK_CONCURRENCY_PER_ENDPOINT claims at once, counted over every worker, and
    the others' deliveries are claimed beside it rather than queued behind its backlog."""
    slow = await register(client, alice, receiver.url, ["*"])
    other = await register(client, bob, receiver.url + "other", ["*"])
    for _ in range(10):
        await ping(client, alice, slow)
    await ping(client, bob, other)
    await ping(client, bob, other)
    ctx = app.state.context
    async with Worker.open(ctx) as first, Worker.open(ctx) as second:
        claimed = await first.dispatcher.claim(16)
        by_endpoint = sorted(str(c.endpoint_id) for c in claimed)
        assert by_endpoint == sorted([slow["id"]] * 3 + [other["id"]] * 2)
        # Another worker finds the slow endpoint's slots taken while those claims hold, and
        # nothing due it could take (so it does not poll for the backlog in a tight loop).
        assert await second.dispatcher.claim(16) == []
        when = await second.dispatcher.next_due()  # the leases' end at the earliest
        assert when is None or when > datetime.now(UTC)
        # One outcome recorded frees one slot.
        await first.dispatcher.deliver(next(c for c in claimed if str(c.endpoint_id) == slow["id"]))
        when = await second.dispatcher.next_due()
        assert when is not None
        assert when <= datetime.now(UTC)
        [next_one] = await second.dispatcher.claim(16)
        assert str(next_one.endpoint_id) == slow["id"]


@pytest.mark.parametrize("settings", [{"webhook_concurrency_per_endpoint": 2}], indirect=True)
async def test_concurrent_claims_never_exceed_an_endpoints_share(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, receiver: Receiver
) -> None:
    hook = await register(client, alice, receiver.url, ["*"])
    for _ in range(12):
        await ping(client, alice, hook)
    ctx = app.state.context
    async with (
        Worker.open(ctx) as a,
        Worker.open(ctx) as b,
        Worker.open(ctx) as c,
        Worker.open(ctx) as d,
    ):
        batches = await asyncio.gather(*(w.dispatcher.claim(16) for w in (a, b, c, d)))
    assert sum(len(batch) for batch in batches) == 2


@pytest.mark.parametrize(
    "settings",
    [{"webhook_concurrency_per_endpoint": 2, "webhook_concurrency_per_account": 3}],
    indirect=True,
)
async def test_one_account_holds_at_most_its_share_over_all_its_endpoints(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account, receiver: Receiver
) -> None:
    """Several endpoints of one account (say, all at one slow host) share the account's
    TASKWELL_WEBHOOK_CONCURRENCY_PER_ACCOUNT slots; another account's go out beside them."""
    hooks = [await register(client, alice, receiver.url + f"h{i}", ["*"]) for i in range(3)]
    for hook in hooks:
        for _ in range(3):
            await ping(client, alice, hook)
    other = await register(client, bob, receiver.url + "other", ["*"])
    await ping(client, bob, other)
    ctx = app.state.context
    async with Worker.open(ctx) as first, Worker.open(ctx) as second:
        claimed = await first.dispatcher.claim(16)
        mine = [c for c in claimed if str(c.endpoint_id) != other["id"]]
        assert len(mine) == 3
        assert max(sum(1 for c in mine if str(c.endpoint_id) == h["id"]) for h in hooks) <= 2
        assert [str(c.endpoint_id) for c in claimed if c not in mine] == [other["id"]]
        assert await second.dispatcher.claim(16) == []
        when = await second.dispatcher.next_due()
        assert when is None or when > datetime.now(UTC)
