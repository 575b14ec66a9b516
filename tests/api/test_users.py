"""The signed-in user's profile: read it, rename, change email (re-authenticated), password."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import STRONG_PASSWORD, Account, assert_problem

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
ME = "/api/v1/users/me"
PASSWORD = "/api/v1/users/me/password"
NEW_PASSWORD = "quiet harbour lamps 17 drift east"

USER_FIELDS = {
    "id",
    "email",
    "display_name",
    "is_active",
    "is_admin",
    "time_zone",
    "created_at",
    "updated_at",
    "avatar",
}


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password})


async def second_session(client: httpx.AsyncClient, account: Account) -> dict[str, Any]:
    response = await log_in(client, account.email, account.password)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


# Reading the profile


async def test_me_returns_the_signed_in_user_without_secrets(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.get(ME, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    me = response.json()
    assert set(me) == USER_FIELDS
    assert me["email"] == "alice@example.com"
    assert me["is_active"] is True
    assert me["is_admin"] is False
    assert "argon2" not in response.text
    assert alice.password not in response.text


async def test_me_is_each_users_own_profile(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    alice_me = (await client.get(ME, headers=alice.headers)).json()
    bob_me = (await client.get(ME, headers=bob.headers)).json()

    assert alice_me["email"] == alice.email
    assert bob_me["email"] == bob.email
    assert alice_me["id"] != bob_me["id"]


async def test_me_needs_an_access_token(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)

    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


# Changing the profile


async def test_display_name_can_be_changed(client: httpx.AsyncClient, alice: Account) -> None:
    before = (await client.get(ME, headers=alice.headers)).json()

    response = await client.patch(ME, json={"display_name": "Alice L."}, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    after = response.json()
    assert after["display_name"] == "Alice L."
    assert after["email"] == before["email"]
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] >= before["updated_at"]
    assert (await client.get(ME, headers=alice.headers)).json()["display_name"] == "Alice L."


async def test_an_empty_patch_changes_nothing(client: httpx.AsyncClient, alice: Account) -> None:
    before = (await client.get(ME, headers=alice.headers)).json()

    response = await client.patch(ME, json={}, headers=alice.headers)

    assert response.status_code == 200, response.text
    assert response.json() == before


async def test_email_change_needs_the_current_password(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.patch(ME, json={"email": "alice@new.example"}, headers=alice.headers)

    assert_problem(response, 422)
    assert (await client.get(ME, headers=alice.headers)).json()["email"] == alice.email


async def test_email_change_with_a_wrong_password_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.patch(
        ME,
        json={"email": "alice@new.example", "current_password": STRONG_PASSWORD + "x"},
        headers=alice.headers,
    )

    assert_problem(response, 401, "invalid-credentials")
    assert (await client.get(ME, headers=alice.headers)).json()["email"] == alice.email


async def test_email_change_with_the_current_password_moves_the_login(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.patch(
        ME,
        json={"email": "Alice@New.Example", "current_password": alice.password},
        headers=alice.headers,
    )

    assert response.status_code == 200, response.text
    assert response.json()["email"] == "alice@new.example"
    assert (await log_in(client, "alice@new.example", alice.password)).status_code == 200
    assert_problem(await log_in(client, alice.email, alice.password), 401, "invalid-credentials")


@pytest.mark.parametrize("taken", ["bob@example.com", "BOB@example.com"])
async def test_email_change_to_a_taken_email_is_a_conflict(
    client: httpx.AsyncClient, alice: Account, bob: Account, taken: str
) -> None:
    response = await client.patch(
        ME, json={"email": taken, "current_password": alice.password}, headers=alice.headers
    )

    assert_problem(response, 409, "email-taken")
    assert (await client.get(ME, headers=alice.headers)).json()["email"] == alice.email


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"is_admin": True}, id="is_admin"),
        pytest.param({"is_active": False}, id="is_active"),
        pytest.param({"id": "00000000-0000-0000-0000-000000000000"}, id="id"),
        pytest.param({"password_hash": "x"}, id="password_hash"),
    ],
)
async def test_protected_fields_cannot_be_patched(
    client: httpx.AsyncClient, alice: Account, body: dict[str, Any]
) -> None:
    before = (await client.get(ME, headers=alice.headers)).json()

    response = await client.patch(ME, json=body, headers=alice.headers)

    assert_problem(response, 422, "validation-error")
    assert (await client.get(ME, headers=alice.headers)).json() == before


async def test_patch_needs_an_access_token(client: httpx.AsyncClient) -> None:
    assert_problem(await client.patch(ME, json={"display_name": "x"}), 401)


# Changing the password


async def test_password_change_swaps_the_password(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        PASSWORD,
        json={"current_password": alice.password, "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )

    assert response.status_code == 204, response.text
    assert response.content == b""
    assert_problem(await log_in(client, alice.email, alice.password), 401, "invalid-credentials")
    assert (await log_in(client, alice.email, NEW_PASSWORD)).status_code == 200


async def test_password_change_ends_the_other_sessions_but_keeps_this_one(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    other = await second_session(client, alice)

    response = await client.post(
        PASSWORD,
        json={"current_password": alice.password, "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )

    assert response.status_code == 204, response.text
    assert_problem(await client.get(ME, headers=bearer(other["access_token"])), 401)
    ended = await client.post(REFRESH, json={"refresh_token": other["refresh_token"]})
    assert_problem(ended, 401, "invalid-refresh-token")
    assert (await client.get(ME, headers=alice.headers)).status_code == 200
    kept = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})
    assert kept.status_code == 200, kept.text
    assert (await client.get(ME, headers=bob.headers)).status_code == 200


async def test_password_change_with_a_wrong_current_password_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    other = await second_session(client, alice)

    response = await client.post(
        PASSWORD,
        json={"current_password": alice.password + "x", "new_password": NEW_PASSWORD},
        headers=alice.headers,
    )

    assert_problem(response, 401, "invalid-credentials")
    assert (await log_in(client, alice.email, alice.password)).status_code == 200
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200


@pytest.mark.parametrize("weak", ["password123456", "qwertyuiopasdf", "short1!A"])
async def test_password_change_to_a_weak_password_is_refused(
    client: httpx.AsyncClient, alice: Account, weak: str
) -> None:
    response = await client.post(
        PASSWORD,
        json={"current_password": alice.password, "new_password": weak},
        headers=alice.headers,
    )

    assert_problem(response, 422, "weak-password")
    assert (await log_in(client, alice.email, alice.password)).status_code == 200
    assert_problem(await log_in(client, alice.email, weak), 401, "invalid-credentials")


async def test_password_change_needs_both_passwords(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        PASSWORD, json={"new_password": NEW_PASSWORD}, headers=alice.headers
    )

    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["current_password"]


async def test_password_change_needs_an_access_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        PASSWORD, json={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD}
    )

    assert_problem(response, 401)
