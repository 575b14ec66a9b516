"""API keys over HTTP: shown once, stored as a hash, limited to their scopes, refused at once when
revoked or expired, and never able to manage the account."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.apikeys.models import api_keys
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from taskwell.users.models import users
from tests.conftest import STRONG_PASSWORD, Account, assert_problem
from tests.support.accounts import set_active
from tests.support.clock import Clock, freeze

API_KEYS = "/api/v1/api-keys"
TASKS = "/api/v1/tasks"
ME = "/api/v1/users/me"
LOGIN = "/api/v1/auth/login"
ALL_SCOPES = ["tasks:read", "tasks:write", "account:read"]
KEY_FIELDS = {"id", "name", "prefix", "scopes", "created_at", "expires_at", "last_used_at"}


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The cheapest password hash: these tests only need accounts, not their hashing."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


async def create_key(
    client: httpx.AsyncClient,
    account: Account,
    scopes: list[str],
    *,
    name: str = "ci",
    expires_at: datetime | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "scopes": scopes}
    if expires_at is not None:
        body["expires_at"] = expires_at.isoformat()
    response = await client.post(API_KEYS, json=body, headers=account.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def x_api_key(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


async def list_keys(client: httpx.AsyncClient, account: Account) -> list[dict[str, Any]]:
    response = await client.get(API_KEYS, headers=account.headers)
    assert response.status_code == 200, response.text
    keys: list[dict[str, Any]] = response.json()
    return keys


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The API key service's clock: expiry passes without sleeping."""
    return freeze(monkeypatch, "taskwell.apikeys.service.utcnow")


# Creating and listing


async def test_created_key_is_shown_once_and_listed_without_it(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        API_KEYS, json={"name": "backup script", "scopes": ["tasks:read"]}, headers=alice.headers
    )

    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert set(created) == KEY_FIELDS | {"key"}
    assert created["name"] == "backup script"
    assert created["scopes"] == ["tasks:read"]
    assert created["expires_at"] is None
    assert created["last_used_at"] is None
    assert created["key"].startswith(f"tw_{created['prefix']}_")
    # The part after the visible prefix carries at least 128 bits (ASVS 11.5.1).
    assert len(created["key"]) - len(f"tw_{created['prefix']}_") >= 22

    listed = await client.get(API_KEYS, headers=alice.headers)

    assert listed.status_code == 200
    assert [set(k) for k in listed.json()] == [KEY_FIELDS]
    assert listed.json()[0]["id"] == created["id"]
    assert listed.json()[0]["prefix"] == created["prefix"]
    assert created["key"] not in listed.text


async def test_each_key_is_different(client: httpx.AsyncClient, alice: Account) -> None:
    first = await create_key(client, alice, ["tasks:read"])
    second = await create_key(client, alice, ["tasks:read"])

    assert first["key"] != second["key"]
    assert first["id"] != second["id"]
    assert [k["id"] for k in await list_keys(client, alice)] == [first["id"], second["id"]]


async def test_key_is_stored_only_as_a_hash(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create_key(client, alice, ALL_SCOPES)
    secret_part = created["key"].removeprefix(f"tw_{created['prefix']}_")

    async with app.state.context.db.transaction() as conn:
        rows = (await conn.execute(sa.select(api_keys))).mappings().all()

    assert len(rows) == 1
    stored = " ".join(str(value) for value in rows[0].values())
    assert created["key"] not in stored
    assert secret_part not in stored
    assert rows[0]["prefix"] == created["prefix"]
    assert rows[0]["key_hash"] != created["key"]


async def test_other_users_keys_are_not_listed(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await create_key(client, alice, ["tasks:read"])

    assert await list_keys(client, bob) == []


async def test_duplicate_scopes_are_kept_once(client: httpx.AsyncClient, alice: Account) -> None:
    created = await create_key(client, alice, ["tasks:read", "tasks:read", "account:read"])

    assert created["scopes"] == ["tasks:read", "account:read"]


async def test_key_with_a_future_expiry_is_created(
    client: httpx.AsyncClient, alice: Account
) -> None:
    expires = utcnow() + timedelta(days=30)

    created = await create_key(client, alice, ["tasks:read"], expires_at=expires)

    assert datetime.fromisoformat(created["expires_at"]) == expires


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"name": "ci", "scopes": ["tasks:admin"]}, "scopes", id="unknown-scope"),
        pytest.param({"name": "ci", "scopes": ["*"]}, "scopes", id="wildcard-scope"),
        pytest.param({"name": "ci", "scopes": []}, "scopes", id="no-scopes"),
        pytest.param({"name": "ci", "scopes": "tasks:read"}, "scopes", id="scopes-not-a-list"),
        pytest.param({"name": "ci"}, "scopes", id="scopes-missing"),
        pytest.param({"name": "", "scopes": ["tasks:read"]}, "name", id="empty-name"),
        pytest.param({"name": "x" * 101, "scopes": ["tasks:read"]}, "name", id="long-name"),
        pytest.param({"scopes": ["tasks:read"]}, "name", id="name-missing"),
        pytest.param(
            {"name": "ci", "scopes": ["tasks:read"], "expires_at": "2001-01-01T00:00:00Z"},
            "expires_at",
            id="past-expiry",
        ),
        pytest.param(
            {"name": "ci", "scopes": ["tasks:read"], "expires_at": "2999-01-01T00:00:00"},
            "expires_at",
            id="expiry-without-zone",
        ),
        pytest.param(
            {"name": "ci", "scopes": ["tasks:read"], "expires_at": "9999-12-31T23:00:00-05:00"},
            "expires_at",
            id="expiry-past-year-9999-in-utc",
        ),
        pytest.param(
            {"name": "ci", "scopes": ["tasks:read"], "key": "tw_chosen_by_me"},
            "key",
            id="unknown-field-key",
        ),
        pytest.param(
            {"name": "ci", "scopes": ["tasks:read"], "user_id": str(uuid.uuid4())},
            "user_id",
            id="unknown-field-user_id",
        ),
    ],
)
async def test_invalid_key_requests_are_refused(
    client: httpx.AsyncClient, alice: Account, body: dict[str, Any], field: str
) -> None:
    response = await client.post(API_KEYS, json=body, headers=alice.headers)

    problem = assert_problem(response, 422)
    fields = [error["field"].split(".")[0] for error in problem["errors"]]
    assert field in fields, problem
    assert await list_keys(client, alice) == []


async def test_expiry_now_is_refused(
    client: httpx.AsyncClient, alice: Account, clock: Clock
) -> None:
    response = await client.post(
        API_KEYS,
        json={"name": "ci", "scopes": ["tasks:read"], "expires_at": clock.now.isoformat()},
        headers=alice.headers,
    )

    problem = assert_problem(response, 422)
    assert [error["field"] for error in problem["errors"]] == ["expires_at"]


async def test_an_account_holds_at_most_fifty_live_keys(
    client: httpx.AsyncClient, alice: Account
) -> None:
    keys = [await create_key(client, alice, ["tasks:read"], name=f"k{n}") for n in range(50)]

    refused = await client.post(
        API_KEYS, json={"name": "one more", "scopes": ["tasks:read"]}, headers=alice.headers
    )

    problem = assert_problem(refused, 422, "validation-error")
    assert [error["code"] for error in problem["errors"]] == ["too_many"]
    await client.delete(f"{API_KEYS}/{keys[0]['id']}", headers=alice.headers)
    await create_key(client, alice, ["tasks:read"], name="after a revocation")
    assert len(await list_keys(client, alice)) == 50


async def test_concurrent_creations_respect_the_limit(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for n in range(45):
        await create_key(client, alice, ["tasks:read"], name=f"k{n}")

    responses = await asyncio.gather(
        *(
            client.post(
                API_KEYS,
                json={"name": f"burst {n}", "scopes": ["tasks:read"]},
                headers=alice.headers,
            )
            for n in range(10)
        )
    )

    assert sorted(r.status_code for r in responses) == [201] * 5 + [422] * 5
    assert len(await list_keys(client, alice)) == 50


# Using a key


@pytest.mark.parametrize("present", [bearer, x_api_key], ids=["bearer", "x-api-key"])
async def test_account_read_key_reads_the_profile(
    client: httpx.AsyncClient,
    alice: Account,
    present: Callable[[str], dict[str, str]],
) -> None:
    created = await create_key(client, alice, ["account:read"])

    response = await client.get(ME, headers=present(created["key"]))

    assert response.status_code == 200, response.text
    assert response.json()["email"] == alice.email


@pytest.mark.parametrize("present", [bearer, x_api_key], ids=["bearer", "x-api-key"])
async def test_key_outside_its_scopes_is_forbidden(
    client: httpx.AsyncClient,
    alice: Account,
    present: Callable[[str], dict[str, str]],
) -> None:
    task = (await client.post(TASKS, json={"title": "Mine"}, headers=alice.headers)).json()
    reader = present((await create_key(client, alice, ["tasks:read"]))["key"])
    writer = present((await create_key(client, alice, ["tasks:write"]))["key"])
    account = present((await create_key(client, alice, ["account:read"]))["key"])
    task_url = f"{TASKS}/{task['id']}"
    refused: list[tuple[dict[str, str], str, str, dict[str, Any] | None]] = [
        (reader, "POST", TASKS, {"title": "Not allowed"}),
        (reader, "PATCH", task_url, {"title": "Not allowed"}),
        (reader, "DELETE", task_url, None),
        (reader, "GET", ME, None),
        (writer, "GET", TASKS, None),
        (writer, "GET", task_url, None),
        (writer, "GET", ME, None),
        (account, "GET", TASKS, None),
        (account, "GET", task_url, None),
        (account, "POST", TASKS, {"title": "Not allowed"}),
    ]

    for headers, method, url, body in refused:
        response = await client.request(method, url, json=body, headers=headers)
        assert_problem(response, 403, "insufficient-scope")

    assert (await client.get(TASKS, headers=reader)).status_code == 200
    assert (await client.get(task_url, headers=reader)).status_code == 200
    assert (await client.get(ME, headers=account)).status_code == 200
    still = await client.get(task_url, headers=alice.headers)
    assert still.json()["title"] == "Mine"
    assert still.json()["version"] == task["version"]


async def test_tasks_written_with_a_key_belong_to_its_owner(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    key = bearer((await create_key(client, alice, ["tasks:read", "tasks:write"]))["key"])

    created = await client.post(TASKS, json={"title": "From the script"}, headers=key)

    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    mine = await client.get(TASKS, headers=alice.headers)
    assert [t["id"] for t in mine.json()["items"]] == [task_id]
    assert (await client.get(f"{TASKS}/{task_id}", headers=key)).status_code == 200
    assert_problem(await client.get(f"{TASKS}/{task_id}", headers=bob.headers), 404)
    theirs = await client.get(TASKS, headers=bob.headers)
    assert theirs.json()["items"] == []
    changed = await client.patch(f"{TASKS}/{task_id}", json={"title": "Taken"}, headers=bob.headers)
    assert_problem(changed, 404)


async def test_key_cannot_reach_another_users_task(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    bobs = (await client.post(TASKS, json={"title": "Bob's"}, headers=bob.headers)).json()
    key = bearer((await create_key(client, alice, ["tasks:read", "tasks:write"]))["key"])

    assert_problem(await client.get(f"{TASKS}/{bobs['id']}", headers=key), 404)
    deleted = await client.delete(f"{TASKS}/{bobs['id']}", headers=key)
    assert_problem(deleted, 404)
    assert (await client.get(f"{TASKS}/{bobs['id']}", headers=bob.headers)).status_code == 200


async def test_last_used_at_is_set_after_use(
    client: httpx.AsyncClient, alice: Account, clock: Clock
) -> None:
    created = await create_key(client, alice, ["account:read"])
    assert (await list_keys(client, alice))[0]["last_used_at"] is None

    clock.advance(timedelta(minutes=5))
    assert (await client.get(ME, headers=x_api_key(created["key"]))).status_code == 200

    listed = (await list_keys(client, alice))[0]
    assert datetime.fromisoformat(listed["last_used_at"]) == clock.now
    assert "key" not in listed


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param(bearer("tw_AAAAAAAA_" + "x" * 43), id="bearer-unknown"),
        pytest.param(x_api_key("tw_AAAAAAAA_" + "x" * 43), id="x-api-key-unknown"),
        pytest.param(x_api_key("not-a-key"), id="x-api-key-garbage"),
    ],
)
async def test_unknown_key_is_refused(
    client: httpx.AsyncClient, alice: Account, headers: dict[str, str]
) -> None:
    await create_key(client, alice, ALL_SCOPES)

    response = await client.get(ME, headers=headers)

    assert_problem(response, 401, "invalid-api-key")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_key_with_one_character_changed_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    key = (await create_key(client, alice, ALL_SCOPES))["key"]
    changed = key[:-1] + ("A" if key[-1] != "A" else "B")

    assert_problem(await client.get(ME, headers=bearer(changed)), 401, "invalid-api-key")


# Revocation, expiry, disabled accounts


@pytest.mark.parametrize("present", [bearer, x_api_key], ids=["bearer", "x-api-key"])
async def test_revoked_key_is_refused_at_once(
    client: httpx.AsyncClient,
    alice: Account,
    present: Callable[[str], dict[str, str]],
) -> None:
    created = await create_key(client, alice, ALL_SCOPES)
    key = present(created["key"])
    assert (await client.get(TASKS, headers=key)).status_code == 200

    revoked = await client.delete(f"{API_KEYS}/{created['id']}", headers=alice.headers)

    assert revoked.status_code == 204
    assert_problem(await client.get(TASKS, headers=key), 401, "invalid-api-key")
    assert_problem(await client.get(ME, headers=key), 401, "invalid-api-key")
    assert await list_keys(client, alice) == []


async def test_revoking_one_key_keeps_the_others(client: httpx.AsyncClient, alice: Account) -> None:
    kept = await create_key(client, alice, ["account:read"], name="kept")
    gone = await create_key(client, alice, ["account:read"], name="gone")

    await client.delete(f"{API_KEYS}/{gone['id']}", headers=alice.headers)

    assert (await client.get(ME, headers=bearer(kept["key"]))).status_code == 200
    assert [k["name"] for k in await list_keys(client, alice)] == ["kept"]


async def test_revoking_twice_is_not_found(client: httpx.AsyncClient, alice: Account) -> None:
    created = await create_key(client, alice, ["tasks:read"])
    await client.delete(f"{API_KEYS}/{created['id']}", headers=alice.headers)

    again = await client.delete(f"{API_KEYS}/{created['id']}", headers=alice.headers)

    assert_problem(again, 404, "api-key-not-found")


async def test_another_users_key_cannot_be_revoked(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    alices = await create_key(client, alice, ["account:read"])

    foreign = await client.delete(f"{API_KEYS}/{alices['id']}", headers=bob.headers)
    unknown = await client.delete(f"{API_KEYS}/{uuid.uuid4()}", headers=bob.headers)

    # Someone else's key and no key at all look the same (ASVS 8.2.2).
    assert (
        assert_problem(foreign, 404, "api-key-not-found")["detail"]
        == (assert_problem(unknown, 404, "api-key-not-found")["detail"])
    )
    assert (await client.get(ME, headers=bearer(alices["key"]))).status_code == 200
    assert len(await list_keys(client, alice)) == 1


async def test_expired_key_is_refused_at_once(
    client: httpx.AsyncClient, alice: Account, clock: Clock
) -> None:
    created = await create_key(
        client, alice, ALL_SCOPES, expires_at=clock.now + timedelta(minutes=10)
    )
    key = bearer(created["key"])
    clock.advance(timedelta(minutes=9, seconds=59))
    assert (await client.get(ME, headers=key)).status_code == 200

    clock.advance(timedelta(seconds=1))

    assert_problem(await client.get(ME, headers=key), 401, "invalid-api-key")
    assert_problem(await client.get(TASKS, headers=key), 401, "invalid-api-key")
    assert_problem(
        await client.post(TASKS, json={"title": "Late"}, headers=x_api_key(created["key"])),
        401,
        "invalid-api-key",
    )


async def test_key_of_a_disabled_account_is_refused(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    key = bearer((await create_key(client, alice, ALL_SCOPES))["key"])
    assert (await client.get(TASKS, headers=key)).status_code == 200

    await set_active(app, alice.email, False)

    assert_problem(await client.get(TASKS, headers=key), 401, "invalid-api-key")
    assert_problem(await client.get(ME, headers=key), 401, "invalid-api-key")
    assert_problem(
        await client.post(TASKS, json={"title": "x"}, headers=key), 401, "invalid-api-key"
    )


async def test_an_access_token_is_not_an_api_key(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get(ME, headers=x_api_key(alice.tokens["access_token"]))

    assert_problem(response, 401, "invalid-api-key")


# What a key can never do


async def test_keys_cannot_manage_keys_sessions_password_or_profile(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await create_key(client, alice, ALL_SCOPES)
    sessions = await client.get("/api/v1/auth/sessions", headers=alice.headers)
    session_id = sessions.json()[0]["id"]
    new_password = "a completely different passphrase 77"
    attempts: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", API_KEYS, None),
        ("POST", API_KEYS, {"name": "child", "scopes": ALL_SCOPES}),
        ("DELETE", f"{API_KEYS}/{created['id']}", None),
        ("GET", "/api/v1/auth/sessions", None),
        ("DELETE", f"/api/v1/auth/sessions/{session_id}", None),
        ("POST", "/api/v1/auth/logout", None),
        ("POST", "/api/v1/auth/logout-all", None),
        (
            "POST",
            "/api/v1/users/me/password",
            {"current_password": STRONG_PASSWORD, "new_password": new_password},
        ),
        ("PATCH", ME, {"display_name": "Mallory"}),
        (
            "PATCH",
            ME,
            {"email": "mallory@example.com", "current_password": STRONG_PASSWORD},
        ),
        ("GET", "/api/v1/auth/totp", None),
        ("POST", "/api/v1/auth/totp/setup", None),
        ("GET", "/api/v1/audit", None),
    ]

    for present in (bearer, x_api_key):
        for method, url, body in attempts:
            response = await client.request(method, url, json=body, headers=present(created["key"]))
            assert response.status_code == 403, (method, url, response.text)
            assert_problem(response, 403, "session-required")

    # Nothing changed: the key, the session, the password and the profile are as they were.
    assert (await client.get(ME, headers=bearer(created["key"]))).json()["email"] == alice.email
    assert len(await list_keys(client, alice)) == 1
    assert (await client.get(ME, headers=alice.headers)).json()["display_name"] != "Mallory"
    login = await client.post(LOGIN, json={"email": alice.email, "password": alice.password})
    assert login.status_code == 200


async def test_keys_need_a_session_to_be_created(client: httpx.AsyncClient) -> None:
    response = await client.post(API_KEYS, json={"name": "ci", "scopes": ["tasks:read"]})

    assert_problem(response, 401)


async def test_key_of_an_admin_cannot_read_the_audit_log(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == alice.email).values(is_admin=True)
        )
    key = bearer((await create_key(client, alice, ALL_SCOPES))["key"])

    assert_problem(await client.get("/api/v1/audit", headers=key), 403, "session-required")
