"""The audit log over HTTP: security events with who, where and when, never a secret, readable by
their owner (admins read all), and a hash chain that shows tampering."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.audit.models import audit_events
from taskwell.audit.service import AuditLog
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from taskwell.users.models import users
from tests.conftest import STRONG_PASSWORD, Account, assert_problem

AUDIT = "/api/v1/audit"
REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
API_KEYS = "/api/v1/api-keys"
SESSIONS = "/api/v1/auth/sessions"
ME = "/api/v1/users/me"
EVENT_FIELDS = {
    "id",
    "at",
    "event",
    "actor_id",
    "subject_id",
    "target",
    "ip",
    "user_agent",
    "request_id",
    "details",
}
AGENT = "AuditSpec/1.0 (test)"


@pytest.fixture
def settings(settings_factory: Callable[..., Settings]) -> Settings:
    """The cheapest password hash: these tests log in often."""
    return settings_factory(argon2_memory_kib=8, argon2_time_cost=1)


class Clock:
    """Stands in for the audit log's `utcnow`, so events land at chosen instants."""

    def __init__(self) -> None:
        self.now = utcnow().replace(microsecond=0) - timedelta(days=1)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock()
    monkeypatch.setattr("taskwell.audit.service.utcnow", frozen)
    return frozen


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def log_in(
    client: httpx.AsyncClient, email: str, password: str, agent: str = AGENT
) -> dict[str, Any]:
    response = await client.post(
        LOGIN, json={"email": email, "password": password}, headers={"User-Agent": agent}
    )
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


async def user_id(client: httpx.AsyncClient, account: Account) -> str:
    response = await client.get(ME, headers=account.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def make_admin(app: FastAPI, client: httpx.AsyncClient, account: Account) -> Account:
    """Admin rights come from the database; a fresh login picks them up."""
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == account.email).values(is_admin=True)
        )
    tokens = await log_in(client, account.email, account.password)
    return Account(account.email, account.password, tokens)


async def read_events(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(AUDIT, params={"limit": 200, **params}, headers=headers)
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_cursor"] is None
    events: list[dict[str, Any]] = page["items"]
    return events


def names(events: list[dict[str, Any]]) -> list[str]:
    return [e["event"] for e in events]


async def raw_rows(app: FastAPI) -> list[dict[str, Any]]:
    async with app.state.context.db.transaction() as conn:
        rows = (await conn.execute(sa.select(audit_events).order_by(audit_events.c.id))).mappings()
        return [dict(row) for row in rows]


def audit_log(app: FastAPI) -> AuditLog:
    log: AuditLog = app.state.context.audit
    return log


# What is recorded


async def test_registration_and_login_are_recorded_with_ip_agent_and_time(
    client: httpx.AsyncClient,
) -> None:
    before = utcnow()
    registered = await client.post(
        REGISTER,
        json={"email": "ada@example.com", "password": STRONG_PASSWORD},
        headers={"User-Agent": AGENT},
    )
    tokens = await log_in(client, "ada@example.com", STRONG_PASSWORD)
    ada = registered.json()["id"]

    events = await read_events(client, bearer(tokens["access_token"]))

    assert names(events) == ["login.succeeded", "user.registered"]
    login, register = events
    assert set(login) == EVENT_FIELDS
    assert login["id"] > register["id"]
    assert register["actor_id"] is None
    assert register["subject_id"] == ada
    assert login["subject_id"] == ada
    for event in events:
        assert event["ip"] == "127.0.0.1"
        assert event["user_agent"] == AGENT
        assert event["request_id"]
        assert before <= datetime.fromisoformat(event["at"]) <= utcnow()
    sessions = await client.get(SESSIONS, headers=bearer(tokens["access_token"]))
    assert login["target"] == sessions.json()[0]["id"]


async def test_request_id_of_the_call_is_recorded(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await client.post(
        API_KEYS,
        json={"name": "ci", "scopes": ["tasks:read"]},
        headers={**alice.headers, "X-Request-ID": "trace-0123456789"},
    )

    events = await read_events(client, alice.headers, event="api_key.created")

    assert [e["request_id"] for e in events] == ["trace-0123456789"]


async def test_failed_logins_are_recorded_with_their_reason(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    wrong = await client.post(LOGIN, json={"email": alice.email, "password": "not the password"})
    assert wrong.status_code == 401
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == alice.email).values(is_active=False)
        )
    inactive = await client.post(LOGIN, json={"email": alice.email, "password": alice.password})
    assert inactive.status_code == 401
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == alice.email).values(is_active=True)
        )

    events = await read_events(client, alice.headers, event="login.failed")

    assert [e["details"]["reason"] for e in events] == ["inactive_account", "bad_password"]
    alice_id = await user_id(client, alice)
    assert all(e["subject_id"] == alice_id and e["actor_id"] is None for e in events)


async def test_failed_login_for_an_unknown_email_keeps_only_a_fingerprint(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    typed = "Nobody.Here@Example.org"
    response = await client.post(LOGIN, json={"email": typed, "password": "guess guess guess"})
    assert response.status_code == 401
    admin = await make_admin(app, client, alice)

    events = await read_events(client, admin.headers, event="login.failed")

    assert len(events) == 1
    failed = events[0]
    assert failed["details"] == {"reason": "unknown_account"}
    assert failed["actor_id"] is None
    assert failed["subject_id"] is None
    assert failed["target"].startswith("email-hmac:")
    stored = repr(await raw_rows(app)).lower()
    for form in (typed.lower(), "nobody.here", "example.org", "guess guess guess"):
        assert form not in stored
    # Only admins see it: it concerns no account.
    assert "login.failed" not in names(await read_events(client, bob.headers))


async def test_session_events_are_recorded(client: httpx.AsyncClient, alice: Account) -> None:
    await log_in(client, alice.email, alice.password, agent="Phone")
    sessions = (await client.get(SESSIONS, headers=alice.headers)).json()
    phone = next(s["id"] for s in sessions if s["user_agent"] == "Phone")
    first = next(s["id"] for s in sessions if s["current"])
    assert (await client.delete(f"{SESSIONS}/{phone}", headers=alice.headers)).status_code == 204
    rotated = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})
    assert rotated.status_code == 200
    reused = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})
    assert reused.status_code == 401
    third = await log_in(client, alice.email, alice.password)
    logout = await client.post("/api/v1/auth/logout", headers=bearer(third["access_token"]))
    assert logout.status_code == 204
    fourth = await log_in(client, alice.email, alice.password)
    everywhere = await client.post(
        "/api/v1/auth/logout-all", headers=bearer(fourth["access_token"])
    )
    assert everywhere.status_code == 204
    fifth = await log_in(client, alice.email, alice.password)

    events = await read_events(client, bearer(fifth["access_token"]))

    assert names(events) == [
        "login.succeeded",
        "logout.all",
        "login.succeeded",
        "logout",
        "login.succeeded",
        "session.refresh_reused",
        "session.ended",
        "login.succeeded",
        "login.succeeded",
        "user.registered",
    ]
    by_name = {e["event"]: e for e in reversed(events)}
    alice_id = events[-1]["subject_id"]
    assert by_name["session.ended"]["target"] == phone
    assert by_name["session.ended"]["actor_id"] == alice_id
    assert by_name["session.refresh_reused"]["target"] == first
    assert by_name["session.refresh_reused"]["subject_id"] == alice_id
    assert by_name["logout.all"]["actor_id"] == alice_id
    assert all(e["subject_id"] == alice_id for e in events)
    assert all(e["ip"] == "127.0.0.1" for e in events)


async def test_password_change_is_recorded(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.post(
        "/api/v1/users/me/password",
        json={"current_password": alice.password, "new_password": "an entirely new phrase 2024"},
        headers={**alice.headers, "User-Agent": AGENT},
    )
    assert response.status_code == 204, response.text

    events = await read_events(client, alice.headers)

    changed = events[0]
    assert changed["event"] == "password.changed"
    assert changed["actor_id"] == changed["subject_id"] == await user_id(client, alice)
    assert changed["user_agent"] == AGENT
    assert changed["details"] == {}


async def test_api_key_creation_and_revocation_are_recorded(
    client: httpx.AsyncClient, alice: Account
) -> None:
    created = await client.post(
        API_KEYS, json={"name": "deploy bot", "scopes": ["tasks:read"]}, headers=alice.headers
    )
    key_id = created.json()["id"]
    await client.delete(f"{API_KEYS}/{key_id}", headers=alice.headers)

    events = await read_events(client, alice.headers)

    assert names(events)[:2] == ["api_key.revoked", "api_key.created"]
    alice_id = await user_id(client, alice)
    for event in events[:2]:
        assert event["target"] == key_id
        assert event["actor_id"] == event["subject_id"] == alice_id
        assert event["details"] == {"name": "deploy bot"}


async def test_the_log_cannot_be_changed_over_http(
    client: httpx.AsyncClient, alice: Account
) -> None:
    event_id = (await read_events(client, alice.headers))[0]["id"]

    for method, url in [
        ("POST", AUDIT),
        ("DELETE", AUDIT),
        ("PUT", f"{AUDIT}/{event_id}"),
        ("PATCH", f"{AUDIT}/{event_id}"),
        ("DELETE", f"{AUDIT}/{event_id}"),
    ]:
        response = await client.request(method, url, json={}, headers=alice.headers)
        assert response.status_code in (404, 405), (method, url, response.status_code)

    assert len(await read_events(client, alice.headers)) == 2


# Never a secret


async def test_events_never_hold_a_secret(app: FastAPI, client: httpx.AsyncClient) -> None:
    email, first_password = "grace@example.com", "first passphrase of grace 1906"
    second_password = "second passphrase of grace 1992"
    wrong_password = "wrong passphrase of grace 0000"
    secrets: list[str] = [first_password, second_password, wrong_password, "hunter2 hunter2"]
    await client.post(REGISTER, json={"email": email, "password": first_password})
    await client.post(LOGIN, json={"email": email, "password": wrong_password})
    await client.post(LOGIN, json={"email": "ghost@example.com", "password": "hunter2 hunter2"})
    login = await log_in(client, email, first_password)
    rotated = (await client.post(REFRESH, json={"refresh_token": login["refresh_token"]})).json()
    await client.post(REFRESH, json={"refresh_token": login["refresh_token"]})  # reuse
    session = await log_in(client, email, first_password)
    headers = bearer(session["access_token"])
    key = (
        await client.post(
            API_KEYS, json={"name": "ci", "scopes": ["account:read"]}, headers=headers
        )
    ).json()
    await client.get(ME, headers={"X-API-Key": key["key"]})
    await client.delete(f"{API_KEYS}/{key['id']}", headers=headers)
    await client.post(
        "/api/v1/users/me/password",
        json={"current_password": first_password, "new_password": second_password},
        headers=headers,
    )
    spare = await log_in(client, email, second_password)
    await client.post("/api/v1/auth/logout", headers=bearer(spare["access_token"]))
    await client.post("/api/v1/auth/logout-all", headers=headers)
    account = await make_admin(app, client, Account(email, second_password, {}))
    for tokens in (login, rotated, session, spare, account.tokens):
        secrets += [tokens["access_token"], tokens["refresh_token"]]
        secrets.append(tokens["access_token"].rsplit(".", 1)[-1])  # the JWT signature
    secrets += [key["key"], key["key"].rsplit("_", 1)[-1]]

    response = await client.get(AUDIT, params={"limit": 200}, headers=account.headers)
    rows = await raw_rows(app)

    assert response.status_code == 200
    assert {
        "user.registered",
        "login.failed",
        "login.succeeded",
        "session.refresh_reused",
        "api_key.created",
        "api_key.revoked",
        "password.changed",
        "logout",
        "logout.all",
    } <= set(names(response.json()["items"]))
    assert len(response.json()["items"]) == len(rows)
    stored = repr(rows)
    for secret in secrets:
        assert secret not in response.text
        assert secret not in stored
    assert "ghost@example.com" not in stored


async def test_details_that_look_like_secrets_are_scrubbed(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    token = alice.tokens["access_token"]

    await audit_log(app).record(
        "test.event",
        subject_id=None,
        details={"password": "hunter2 hunter2", "note": f"Bearer {token}", "ok": "plain"},
    )

    stored = repr(await raw_rows(app))
    assert "hunter2" not in stored
    assert token not in stored
    assert "plain" in stored


# Who may read what


async def test_users_see_only_their_own_events(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    alice_id, bob_id = await user_id(client, alice), await user_id(client, bob)

    alices = await read_events(client, alice.headers)
    bobs = await read_events(client, bob.headers)

    assert names(alices) == names(bobs) == ["login.succeeded", "user.registered"]
    assert all(alice_id in (e["actor_id"], e["subject_id"]) for e in alices)
    assert all(bob_id in (e["actor_id"], e["subject_id"]) for e in bobs)
    own = await read_events(client, alice.headers, user_id=alice_id)
    assert own == alices


async def test_non_admin_cannot_read_another_users_events(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    bob_id = await user_id(client, bob)

    response = await client.get(AUDIT, params={"user_id": bob_id}, headers=alice.headers)

    assert_problem(response, 403, "forbidden")


async def test_audit_needs_a_signed_in_session(client: httpx.AsyncClient, alice: Account) -> None:
    key = await client.post(
        API_KEYS, json={"name": "ci", "scopes": ["account:read"]}, headers=alice.headers
    )

    assert_problem(await client.get(AUDIT), 401)
    assert_problem(
        await client.get(AUDIT, headers={"X-API-Key": key.json()["key"]}), 403, "session-required"
    )


async def test_admin_sees_every_account_and_filters_by_user(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    bob_id = await user_id(client, bob)
    admin = await make_admin(app, client, alice)

    everything = await read_events(client, admin.headers)
    bobs = await read_events(client, admin.headers, user_id=bob_id)

    assert names(everything) == [
        "login.succeeded",  # alice again, now an admin
        "login.succeeded",
        "user.registered",
        "login.succeeded",
        "user.registered",
    ]
    assert names(bobs) == ["login.succeeded", "user.registered"]
    assert all(e["subject_id"] == bob_id for e in bobs)


async def test_admin_filters_by_event_and_time(
    app: FastAPI, clock: Clock, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    start = clock.now  # alice and bob registered and logged in at this instant
    clock.advance(timedelta(hours=1))
    await client.post(API_KEYS, json={"name": "b", "scopes": ["tasks:read"]}, headers=bob.headers)
    clock.advance(timedelta(hours=1))
    await client.post(LOGIN, json={"email": bob.email, "password": "not bob's password"})
    clock.advance(timedelta(hours=1))
    admin = await make_admin(app, client, alice)
    hour = timedelta(hours=1)

    failed = await read_events(client, admin.headers, event="login.failed")
    window = await read_events(
        client,
        admin.headers,
        since=(start + hour).isoformat(),
        until=(start + 2 * hour).isoformat(),
    )
    later = await read_events(client, admin.headers, since=(start + 2 * hour).isoformat())
    earlier = await read_events(client, admin.headers, until=(start + hour).isoformat())
    bobs_logins = await read_events(
        client, admin.headers, user_id=await user_id(client, bob), event="login.succeeded"
    )

    assert names(failed) == ["login.failed"]
    assert names(window) == ["api_key.created"]
    assert names(later) == ["login.succeeded", "login.failed"]
    assert len(earlier) == 4
    assert all(datetime.fromisoformat(e["at"]) == start for e in earlier)
    assert len(bobs_logins) == 1


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"user_id": "not-a-uuid"}, id="user_id"),
        pytest.param({"since": "2024-01-01T00:00:00"}, id="since-without-zone"),
        pytest.param({"until": "yesterday"}, id="until"),
        pytest.param({"event": "login.failed; drop table"}, id="event"),
        pytest.param({"since": "9999-12-31T23:00:00-05:00"}, id="since-past-year-9999-in-utc"),
        pytest.param({"until": "0001-01-01T01:00:00+05:00"}, id="until-before-year-1-in-utc"),
        pytest.param({"cursor": "abc"}, id="cursor"),
        pytest.param({"cursor": "9" * 20}, id="cursor-beyond-64-bits"),
        pytest.param({"limit": 0}, id="limit-zero"),
        pytest.param({"limit": 201}, id="limit-too-big"),
    ],
)
async def test_bad_audit_queries_are_refused(
    client: httpx.AsyncClient, alice: Account, params: dict[str, Any]
) -> None:
    response = await client.get(AUDIT, params=params, headers=alice.headers)

    assert_problem(response, 422)


# Pages


async def test_pages_follow_the_cursor_newest_first(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for n in range(7):
        created = await client.post(
            API_KEYS, json={"name": f"key {n}", "scopes": ["tasks:read"]}, headers=alice.headers
        )
        assert created.status_code == 201
    everything = await read_events(client, alice.headers)
    assert len(everything) == 9

    pages: list[list[dict[str, Any]]] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(AUDIT, params=params, headers=alice.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert len(pages) < 10

    assert [len(p) for p in pages] == [2, 2, 2, 2, 1]
    walked = [e for page in pages for e in page]
    assert walked == everything
    ids = [e["id"] for e in walked]
    assert ids == sorted(ids, reverse=True)
    assert [e["details"].get("name") for e in walked[:7]] == [f"key {n}" for n in range(6, -1, -1)]


async def test_a_full_last_page_ends_with_an_empty_one(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = (await client.get(AUDIT, params={"limit": 2}, headers=alice.headers)).json()
    assert len(first["items"]) == 2

    rest = await client.get(
        AUDIT, params={"limit": 2, "cursor": first["next_cursor"]}, headers=alice.headers
    )

    assert rest.json() == {"items": [], "next_cursor": None}


# The chain


async def test_an_intact_log_verifies(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    await client.post(API_KEYS, json={"name": "k", "scopes": ["tasks:read"]}, headers=alice.headers)

    assert await audit_log(app).verify() is None


async def test_concurrent_events_keep_the_chain_intact(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    responses = await asyncio.gather(
        *(
            client.post(
                API_KEYS, json={"name": f"k{n}", "scopes": ["tasks:read"]}, headers=alice.headers
            )
            for n in range(12)
        )
    )

    assert [r.status_code for r in responses] == [201] * 12
    assert len(await raw_rows(app)) == 14
    assert await audit_log(app).verify() is None


async def _middle_row(app: FastAPI, client: httpx.AsyncClient, alice: Account) -> list[int]:
    for n in range(3):
        await client.post(
            API_KEYS, json={"name": f"k{n}", "scopes": ["tasks:read"]}, headers=alice.headers
        )
    ids = [row["id"] for row in await raw_rows(app)]
    assert len(ids) == 5
    assert await audit_log(app).verify() is None
    return ids


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"details": '{"name":"something else"}'}, id="details"),
        pytest.param({"event": "api_key.revoked"}, id="event"),
        pytest.param({"ip": "203.0.113.9"}, id="ip"),
        pytest.param({"user_agent": "Innocent/1.0"}, id="user_agent"),
        pytest.param({"actor_id": None}, id="actor"),
    ],
)
async def test_an_edited_row_is_named(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, change: dict[str, Any]
) -> None:
    ids = await _middle_row(app, client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(audit_events).where(audit_events.c.id == ids[2]).values(**change)
        )

    assert await audit_log(app).verify() == ids[2]


async def test_an_edited_time_is_named(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    ids = await _middle_row(app, client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(audit_events)
            .where(audit_events.c.id == ids[3])
            .values(at=utcnow() - timedelta(days=3))
        )

    assert await audit_log(app).verify() == ids[3]


async def test_a_deleted_middle_row_is_named_by_its_successor(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    ids = await _middle_row(app, client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(sa.delete(audit_events).where(audit_events.c.id == ids[2]))

    assert await audit_log(app).verify() == ids[3]


async def test_a_deleted_newest_row_is_detected(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    ids = await _middle_row(app, client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(sa.delete(audit_events).where(audit_events.c.id == ids[-1]))

    assert await audit_log(app).verify() == ids[-1]


async def test_a_rehashed_edit_is_still_detected_by_its_successor(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    ids = await _middle_row(app, client, alice)
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(audit_events).where(audit_events.c.id == ids[2]).values(hash="f" * 64)
        )

    assert await audit_log(app).verify() == ids[2]


async def test_purging_old_events_keeps_the_chain_verifiable(
    app: FastAPI, client: httpx.AsyncClient, clock: Clock
) -> None:
    await client.post(REGISTER, json={"email": "old@example.com", "password": STRONG_PASSWORD})
    await log_in(client, "old@example.com", STRONG_PASSWORD)
    clock.advance(timedelta(days=400))
    fresh = await log_in(client, "old@example.com", STRONG_PASSWORD)

    purged = await audit_log(app).purge(retention_days=365)

    assert purged == 2
    assert names(await read_events(client, bearer(fresh["access_token"]))) == ["login.succeeded"]
    assert await audit_log(app).verify() is None
