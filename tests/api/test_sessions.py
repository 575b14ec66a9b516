"""GET /auth/sessions lists the caller's sessions; DELETE /auth/sessions/{id} ends one."""

from __future__ import annotations

import uuid

import httpx

from tests.conftest import Account, assert_problem

SESSIONS = "/api/v1/auth/sessions"


async def _login(client: httpx.AsyncClient, account: Account, agent: str) -> dict[str, str]:
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": account.email, "password": account.password},
        headers={"User-Agent": agent},
    )
    assert response.status_code == 200
    tokens: dict[str, str] = response.json()
    return tokens


def _bearer(tokens: dict[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


async def test_sessions_list_marks_the_current_one(
    client: httpx.AsyncClient, alice: Account
) -> None:
    phone = await _login(client, alice, "PhoneApp/1.0")

    response = await client.get(SESSIONS, headers=_bearer(phone))

    assert response.status_code == 200
    sessions = response.json()
    assert len(sessions) == 2
    current = [s for s in sessions if s["current"]]
    assert len(current) == 1
    assert current[0]["user_agent"] == "PhoneApp/1.0"
    assert current[0]["ip"] == "127.0.0.1"
    assert {"id", "created_at", "last_used_at", "expires_at"} <= set(current[0])


async def test_sessions_of_other_users_are_not_listed(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    response = await client.get(SESSIONS, headers=bob.headers)
    assert len(response.json()) == 1


async def test_ending_a_session_rejects_its_tokens_and_keeps_the_others(
    client: httpx.AsyncClient, alice: Account
) -> None:
    laptop = await _login(client, alice, "Laptop")
    sessions = (await client.get(SESSIONS, headers=alice.headers)).json()
    laptop_id = next(s["id"] for s in sessions if s["user_agent"] == "Laptop")

    ended = await client.delete(f"{SESSIONS}/{laptop_id}", headers=alice.headers)

    assert ended.status_code == 204
    assert_problem(await client.get("/api/v1/users/me", headers=_bearer(laptop)), 401)
    refresh = await client.post(
        "/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]}
    )
    assert_problem(refresh, 401, "invalid-refresh-token")
    assert (await client.get("/api/v1/users/me", headers=alice.headers)).status_code == 200
    remaining = (await client.get(SESSIONS, headers=alice.headers)).json()
    assert [s["id"] for s in remaining] != [laptop_id]
    assert len(remaining) == 1


async def test_another_users_session_cannot_be_ended(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    bobs = (await client.get(SESSIONS, headers=bob.headers)).json()[0]["id"]

    response = await client.delete(f"{SESSIONS}/{bobs}", headers=alice.headers)

    assert_problem(response, 404, "session-not-found")
    assert (await client.get("/api/v1/users/me", headers=bob.headers)).status_code == 200


async def test_ending_an_unknown_session_is_a_404(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.delete(f"{SESSIONS}/{uuid.uuid4()}", headers=alice.headers)
    assert_problem(response, 404, "session-not-found")


async def test_ending_the_current_session_logs_it_out(
    client: httpx.AsyncClient, alice: Account
) -> None:
    current = (await client.get(SESSIONS, headers=alice.headers)).json()[0]["id"]

    assert (await client.delete(f"{SESSIONS}/{current}", headers=alice.headers)).status_code == 204
    assert_problem(await client.get(SESSIONS, headers=alice.headers), 401)


async def test_logged_out_sessions_are_not_listed(
    client: httpx.AsyncClient, alice: Account
) -> None:
    other = await _login(client, alice, "Tablet")
    assert (await client.post("/api/v1/auth/logout", headers=_bearer(other))).status_code == 204

    sessions = (await client.get(SESSIONS, headers=alice.headers)).json()

    assert [s["user_agent"] for s in sessions] != ["Tablet"]
    assert len(sessions) == 1
