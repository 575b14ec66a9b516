"""Webhook endpoints over HTTP: each user's own, secrets shown once and kept encrypted, targets
refused unless public (or allowed in settings), a cap, audit events, the delivery log."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.settings import Settings
from taskwell.webhooks import ssrf
from taskwell.webhooks.models import webhook_endpoints
from tests.conftest import Account, assert_problem

WEBHOOKS = "/api/v1/webhooks"
API_KEYS = "/api/v1/api-keys"
AUDIT = "/api/v1/audit"
PUBLIC = "93.184.215.14"
FIELDS = {
    "id",
    "url",
    "description",
    "event_types",
    "enabled",
    "disabled_reason",
    "failure_count",
    "previous_secret_expires_at",
    "created_at",
    "updated_at",
}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings], request: pytest.FixtureRequest) -> Settings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1, **overrides)


@pytest.fixture(autouse=True)
def dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, list[str]]:
    """Names resolve from this table (real names such as localhost still resolve for real)."""
    table: dict[str, list[str]] = {"hooks.example.com": [PUBLIC], "internal.example": ["10.1.2.3"]}
    real = ssrf.resolve_host

    async def resolve(host: str, port: int, executor: Executor | None = None) -> list[str]:
        if host in table:
            return table[host]
        if host.endswith(".invalid"):  # RFC 6761: never resolves; no need to ask
            raise OSError("no such host")
        return await real(host, port, executor)

    monkeypatch.setattr(ssrf, "resolve_host", resolve)
    return table


async def create(
    client: httpx.AsyncClient,
    account: Account,
    url: str = "https://hooks.example.com/in",
    event_types: list[str] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    body = {"url": url, "event_types": event_types or ["task.*"], **fields}
    response = await client.post(WEBHOOKS, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# --- creating and reading ------------------------------------------------------------------


async def test_a_created_webhook_shows_its_secret_once(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        WEBHOOKS,
        json={
            "url": "https://hooks.example.com/in",
            "event_types": ["task.updated", "comment.*"],
            "description": "CI",
        },
        headers=alice.headers,
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == FIELDS | {"secret"}
    assert created["secret"].startswith("whsec_")
    assert created["event_types"] == ["task.updated", "comment.*"]
    assert created["enabled"] is True
    assert created["failure_count"] == 0
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["location"].endswith(f"{WEBHOOKS}/{created['id']}")
    shown = await client.get(f"{WEBHOOKS}/{created['id']}", headers=alice.headers)
    assert set(shown.json()) == FIELDS
    listed = await client.get(WEBHOOKS, headers=alice.headers)
    assert [w["id"] for w in listed.json()["items"]] == [created["id"]]
    assert "secret" not in listed.json()["items"][0]


async def test_the_secret_is_encrypted_at_rest(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)

    async with app.state.context.db.engine.connect() as conn:
        stored = (
            await conn.execute(
                sa.select(webhook_endpoints.c.secret_enc).where(
                    webhook_endpoints.c.id == uuid.UUID(created["id"])
                )
            )
        ).scalar_one()
    assert stored.startswith("v1.")
    assert created["secret"] not in stored
    assert created["secret"].removeprefix("whsec_") not in stored


async def test_another_users_webhook_is_not_found(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    created = await create(client, alice)
    url = f"{WEBHOOKS}/{created['id']}"

    assert_problem(await client.get(url, headers=bob.headers), 404, "webhook-not-found")
    assert_problem(
        await client.patch(url, json={"description": "x"}, headers=bob.headers),
        404,
        "webhook-not-found",
    )
    assert_problem(await client.delete(url, headers=bob.headers), 404, "webhook-not-found")
    assert_problem(
        await client.post(f"{url}/rotate-secret", headers=bob.headers), 404, "webhook-not-found"
    )
    assert_problem(
        await client.get(f"{url}/deliveries", headers=bob.headers), 404, "webhook-not-found"
    )
    assert_problem(await client.post(f"{url}/test", headers=bob.headers), 404, "webhook-not-found")
    assert (await client.get(WEBHOOKS, headers=bob.headers)).json()["items"] == []


async def test_webhooks_need_credentials(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(WEBHOOKS), 401)


@pytest.mark.parametrize(
    "body",
    [
        {"url": "https://hooks.example.com/in", "event_types": []},
        {"url": "https://hooks.example.com/in", "event_types": ["task.created"]},
        {"url": "https://hooks.example.com/in", "event_types": ["nothing.*"]},
        {"url": "https://hooks.example.com/in", "event_types": ["task.*"] * 21},
        {"url": "https://hooks.example.com/in"},
        {"url": "", "event_types": ["*"]},
        {"url": "https://hooks.example.com/" + "a" * 2048, "event_types": ["*"]},
        {"url": "https://hooks.example.com/in", "event_types": ["*"], "description": "d" * 201},
        {"url": "https://hooks.example.com/in", "event_types": ["*"], "secret": "mine"},
    ],
)
async def test_invalid_bodies_are_refused(
    client: httpx.AsyncClient, alice: Account, body: dict[str, Any]
) -> None:
    assert_problem(await client.post(WEBHOOKS, json=body, headers=alice.headers), 422)


async def test_event_types_are_kept_once_and_star_covers_all(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice, event_types=["task.updated", "task.updated", "*"])

    assert created["event_types"] == ["*"]


# --- the SSRF guard ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://hooks.example.com/in", "scheme"),
        ("https://127.0.0.1/in", "private_address"),
        ("https://localhost:8443/in", "private_address"),  # a DNS name for loopback
        ("https://internal.example/in", "private_address"),  # a DNS name for 10.1.2.3
        ("https://169.254.169.254/latest/meta-data", "private_address"),
        ("https://[::1]/in", "private_address"),
        ("https://[::ffff:10.0.0.1]/in", "private_address"),
        ("https://[fd00::1]/in", "private_address"),
        ("https://0.0.0.0/in", "private_address"),
        ("https://user:pw@hooks.example.com/in", "credentials"),
        ("https://no-such-host.invalid/in", "unresolvable"),
    ],
)
async def test_targets_that_are_not_public_are_refused(
    client: httpx.AsyncClient, alice: Account, url: str, code: str
) -> None:
    response = await client.post(
        WEBHOOKS, json={"url": url, "event_types": ["*"]}, headers=alice.headers
    )

    body = assert_problem(response, 422, "webhook-target-refused")
    assert body["errors"][0]["field"] == "url"
    assert body["errors"][0]["code"] == code


async def test_a_url_changed_to_a_private_target_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}",
        json={"url": "https://internal.example/in"},
        headers=alice.headers,
    )

    assert_problem(response, 422, "webhook-target-refused")


@pytest.mark.parametrize(
    "settings",
    [{"webhook_allow_http": True, "webhook_allowed_networks": "127.0.0.0/8,::1"}],
    indirect=True,
)
async def test_networks_allowed_in_settings_are_accepted(
    client: httpx.AsyncClient, alice: Account
) -> None:
    local = await create(client, alice, url="http://127.0.0.1:8080/in")
    by_name = await create(client, alice, url="http://localhost:8080/in")

    assert local["url"] == "http://127.0.0.1:8080/in"
    assert by_name["url"] == "http://localhost:8080/in"
    response = await client.post(
        WEBHOOKS,
        json={"url": "http://internal.example/in", "event_types": ["*"]},
        headers=alice.headers,
    )
    assert_problem(response, 422, "webhook-target-refused")


# --- changing, rotating, deleting --------------------------------------------------------


async def test_url_event_types_and_description_can_change(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)

    response = await client.patch(
        f"{WEBHOOKS}/{created['id']}",
        json={"description": "new", "event_types": ["project.*"]},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["description"] == "new"
    assert response.json()["event_types"] == ["project.*"]
    assert response.json()["url"] == created["url"]
    assert_problem(
        await client.patch(
            f"{WEBHOOKS}/{created['id']}", json={"url": None}, headers=alice.headers
        ),
        422,
    )


async def test_disabling_and_enabling_again(client: httpx.AsyncClient, alice: Account) -> None:
    created = await create(client, alice)
    url = f"{WEBHOOKS}/{created['id']}"

    off = await client.patch(url, json={"enabled": False}, headers=alice.headers)
    refused = await client.post(f"{url}/test", headers=alice.headers)
    on = await client.patch(url, json={"enabled": True}, headers=alice.headers)

    assert off.json()["enabled"] is False
    assert off.json()["disabled_reason"]
    assert_problem(refused, 409, "webhook-disabled")
    assert on.json()["enabled"] is True
    assert on.json()["disabled_reason"] is None
    assert on.json()["failure_count"] == 0


async def test_rotating_gives_a_new_secret_and_keeps_the_old_one_signing_for_a_while(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)

    response = await client.post(f"{WEBHOOKS}/{created['id']}/rotate-secret", headers=alice.headers)

    assert response.status_code == 200, response.text
    rotated = response.json()
    assert rotated["secret"].startswith("whsec_")
    assert rotated["secret"] != created["secret"]
    assert rotated["previous_secret_expires_at"] is not None
    assert response.headers["cache-control"] == "no-store"


async def test_deleting_removes_the_webhook(client: httpx.AsyncClient, alice: Account) -> None:
    created = await create(client, alice)
    url = f"{WEBHOOKS}/{created['id']}"

    deleted = await client.delete(url, headers=alice.headers)

    assert deleted.status_code == 204
    assert_problem(await client.get(url, headers=alice.headers), 404, "webhook-not-found")


@pytest.mark.parametrize("settings", [{"webhooks_max_per_user": 2}], indirect=True)
async def test_one_more_than_the_limit_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await create(client, alice)
    await create(client, alice)

    response = await client.post(
        WEBHOOKS,
        json={"url": "https://hooks.example.com/in", "event_types": ["*"]},
        headers=alice.headers,
    )

    assert_problem(response, 409, "webhook-limit")


async def test_creating_rotating_and_deleting_are_audited(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice, "https://hooks.example.com/in?token=s3cr3t")
    url = f"{WEBHOOKS}/{created['id']}"
    await client.patch(
        url, json={"url": "https://hooks.example.com/v2?token=t0ken"}, headers=alice.headers
    )
    await client.post(f"{url}/rotate-secret", headers=alice.headers)
    await client.delete(url, headers=alice.headers)

    page = (await client.get(AUDIT, headers=alice.headers)).json()
    events = [e for e in page["items"] if e["event"].startswith("webhook.")]

    assert [e["event"] for e in events] == [
        "webhook.deleted",
        "webhook.secret_rotated",
        "webhook.updated",
        "webhook.created",
    ]
    assert all(e["target"] == created["id"] for e in events)
    assert created["secret"] not in str(page)
    # A receiver's token in the URL's query stays out of the log.
    assert events[-1]["details"]["url"] == "https://hooks.example.com/in"
    for secret in ("s3cr3t", "t0ken"):
        assert secret not in str(page)


# --- API keys ------------------------------------------------------------------------------


async def _key(client: httpx.AsyncClient, account: Account, scopes: list[str]) -> dict[str, str]:
    response = await client.post(
        API_KEYS, json={"name": "hooks", "scopes": scopes}, headers=account.headers
    )
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['key']}"}


async def test_an_api_key_needs_the_webhooks_scope(
    client: httpx.AsyncClient, alice: Account
) -> None:
    tasks_only = await _key(client, alice, ["tasks:read", "tasks:write"])
    hooks_only = await _key(client, alice, ["webhooks:manage"])
    hooks = await _key(client, alice, ["webhooks:manage", "tasks:read"])
    body = {"url": "https://hooks.example.com/in", "event_types": ["*"]}

    assert_problem(await client.get(WEBHOOKS, headers=tasks_only), 403, "insufficient-scope")
    # A webhook sends what GET /sync shows: a key that may not read tasks may not have one
    # (it would read every task through it).
    assert_problem(
        await client.post(WEBHOOKS, json=body, headers=hooks_only), 403, "insufficient-scope"
    )
    assert_problem(await client.get(WEBHOOKS, headers=hooks_only), 403, "insufficient-scope")
    created = await client.post(WEBHOOKS, json=body, headers=hooks)
    assert created.status_code == 201, created.text


# --- the delivery log ----------------------------------------------------------------------


async def test_the_delivery_log_pages_newest_first(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)
    url = f"{WEBHOOKS}/{created['id']}"
    queued = [(await client.post(f"{url}/test", headers=alice.headers)).json() for _ in range(5)]

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(f"{url}/deliveries", params=params, headers=alice.headers)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert {q["id"] for q in queued} == {d["id"] for d in seen}
    assert len(seen) == 5
    times = [d["created_at"] for d in seen]
    assert times == sorted(times, reverse=True)
    first = seen[0]
    assert first["event_type"] == "webhook.ping"
    assert first["state"] == "pending"
    assert first["attempt_count"] == 0
    assert first["attempts"] == []


async def test_a_bad_log_cursor_or_limit_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create(client, alice)
    url = f"{WEBHOOKS}/{created['id']}/deliveries"

    assert_problem(
        await client.get(url, params={"cursor": "nonsense"}, headers=alice.headers),
        400,
        "invalid-cursor",
    )
    assert_problem(await client.get(url, params={"limit": 0}, headers=alice.headers), 422)


@pytest.mark.parametrize("settings", [{"webhooks_max_per_user": 2}], indirect=True)
async def test_the_limit_holds_under_concurrent_creates(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = {"url": "https://hooks.example.com/in", "event_types": ["*"]}

    answers = await asyncio.gather(
        *(client.post(WEBHOOKS, json=body, headers=alice.headers) for _ in range(6))
    )

    assert sorted(a.status_code for a in answers) == [201, 201, 409, 409, 409, 409]
    assert len((await client.get(WEBHOOKS, headers=alice.headers)).json()["items"]) == 2
