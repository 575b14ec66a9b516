"""Registration, login, refresh-token rotation and logout, spoken over HTTP to the real app."""

from __future__ import annotations

import asyncio
import random
import string
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from taskwell.auth.passwords import Verification
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, Account, assert_problem
from tests.support.accounts import set_active
from tests.support.clock import Clock, freeze

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
LOGOUT_ALL = "/api/v1/auth/logout-all"
ME = "/api/v1/users/me"

USER_FIELDS = {
    "id",
    "email",
    "display_name",
    "is_active",
    "is_admin",
    "time_zone",
    "created_at",
    "updated_at",
}


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def full_width(text: str) -> str:
    """ASCII as its full-width forms (U+FF01...), which NFKC folds back to ASCII."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


def same_problem(response: httpx.Response) -> tuple[Any, ...]:
    body = response.json()
    return body["type"], body["title"], body["detail"], body["status"]


async def log_in(client: httpx.AsyncClient, email: str, password: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """The auth service's clock: session lifetimes pass without sleeping."""
    return freeze(monkeypatch, "taskwell.auth.service.utcnow")


# Registration


async def test_register_returns_the_user_with_a_lower_cased_email_and_no_secrets(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        REGISTER,
        json={
            "email": "Ada.Lovelace@Example.COM",
            "password": STRONG_PASSWORD,
            "display_name": "Ada",
        },
    )

    assert response.status_code == 201, response.text
    user = response.json()
    assert set(user) == USER_FIELDS
    assert user["email"] == "ada.lovelace@example.com"
    assert user["display_name"] == "Ada"
    assert user["is_active"] is True
    assert user["is_admin"] is False
    assert user["created_at"]
    assert user["updated_at"]
    assert STRONG_PASSWORD not in response.text
    assert "argon2" not in response.text
    assert "hash" not in response.text


async def test_display_name_is_optional(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 201, response.text
    assert response.json()["display_name"] == ""


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("私の猫は毎朝七時に青い窓辺で歌います🎵🐈", id="japanese-and-emoji"),
        pytest.param("plum glacier whistles beyond marmalade", id="lower-case-words-only"),
        pytest.param("Zq8#vL2@pX9!", id="exactly-12-characters"),
        pytest.param(
            "".join(random.Random(7).choices(string.ascii_letters + string.digits, k=128)),
            id="exactly-128-characters",
        ),
    ],
)
async def test_any_long_enough_unguessable_password_is_accepted_and_logs_in(
    client: httpx.AsyncClient, password: str
) -> None:
    response = await client.post(REGISTER, json={"email": "ada@example.com", "password": password})
    assert response.status_code == 201, response.text

    tokens = await log_in(client, "ada@example.com", password)

    assert tokens["access_token"]


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("password123456", id="common"),
        pytest.param("qwertyuiopasdf", id="keyboard-walk"),
        pytest.param("Zq8#vL2@pX9", id="11-characters"),
        pytest.param("Zq8#vL2@pX9!" * 10 + "Yk7$wM3&q", id="129-characters"),
        pytest.param("aaaaaaaaaaaaaaaaaaaa", id="repeated-character"),
        pytest.param("ada@example.com 2024", id="the-email-itself"),
        # Full-width letters, which NFKC turns back into "password123456" at login.
        pytest.param(full_width("password123456"), id="full-width-common"),
        pytest.param(full_width("p") + "assword123456", id="one-full-width-letter"),
    ],
)
async def test_weak_passwords_are_refused(client: httpx.AsyncClient, password: str) -> None:
    response = await client.post(REGISTER, json={"email": "ada@example.com", "password": password})

    assert_problem(response, 422, "weak-password")


async def test_password_with_a_nul_character_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD + "\x00"}
    )

    assert 400 <= response.status_code < 500
    assert_problem(response, response.status_code)


async def test_refused_registration_creates_no_account(client: httpx.AsyncClient) -> None:
    await client.post(REGISTER, json={"email": "ada@example.com", "password": "password123456"})

    response = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 201, response.text


@pytest.mark.parametrize("second_email", ["ada@example.com", "ADA@Example.com"])
async def test_an_email_can_register_only_once_whatever_its_case(
    client: httpx.AsyncClient, second_email: str
) -> None:
    first = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )
    assert first.status_code == 201, first.text

    response = await client.post(
        REGISTER, json={"email": second_email, "password": "another strong phrase of words 9"}
    )

    assert_problem(response, 409, "email-taken")


async def test_unknown_fields_in_registration_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER,
        json={"email": "ada@example.com", "password": STRONG_PASSWORD, "nickname": "ada"},
    )

    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["nickname"]


async def test_registration_cannot_make_an_admin(client: httpx.AsyncClient) -> None:
    response = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD, "is_admin": True}
    )
    body = assert_problem(response, 422, "validation-error")
    assert [e["field"] for e in body["errors"]] == ["is_admin"]

    again = await client.post(
        REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )
    assert again.status_code == 201, again.text
    assert again.json()["is_admin"] is False


# Login


async def test_login_returns_a_bearer_token_pair_that_is_not_cached(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    await client.post(REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD})

    response = await client.post(
        LOGIN, json={"email": "ada@example.com", "password": STRONG_PASSWORD}
    )

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == settings.access_token_ttl_seconds
    assert len(body["refresh_token"]) >= 43  # 256 bits, base64url
    me = await client.get(ME, headers=bearer(body["access_token"]))
    assert me.status_code == 200, me.text
    assert me.json()["email"] == "ada@example.com"


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient, alice: Account) -> None:
    tokens = await log_in(client, "  ALICE@Example.com", alice.password)

    assert tokens["access_token"]


async def test_every_login_starts_a_new_session(client: httpx.AsyncClient, alice: Account) -> None:
    second = await log_in(client, alice.email, alice.password)

    assert second["access_token"] != alice.tokens["access_token"]
    assert second["refresh_token"] != alice.tokens["refresh_token"]


async def test_unknown_email_wrong_password_and_disabled_account_look_the_same(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    await set_active(app, bob.email, False)

    unknown = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": STRONG_PASSWORD}
    )
    wrong = await client.post(LOGIN, json={"email": alice.email, "password": STRONG_PASSWORD + "x"})
    disabled = await client.post(LOGIN, json={"email": bob.email, "password": bob.password})

    assert_problem(unknown, 401, "invalid-credentials")
    assert_problem(wrong, 401, "invalid-credentials")
    assert_problem(disabled, 401, "invalid-credentials")
    assert same_problem(unknown) == same_problem(wrong) == same_problem(disabled)


async def test_login_with_an_unknown_email_still_verifies_a_password_hash(
    app: FastAPI, client: httpx.AsyncClient, alice: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    hasher = app.state.context.auth._hasher
    real_verify = hasher.verify
    verified: list[str | None] = []

    async def spy(stored_hash: str | None, password: str) -> Verification:
        verified.append(stored_hash)
        result: Verification = await real_verify(stored_hash, password)
        return result

    monkeypatch.setattr(hasher, "verify", spy)

    unknown = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": STRONG_PASSWORD}
    )
    wrong = await client.post(LOGIN, json={"email": alice.email, "password": STRONG_PASSWORD + "x"})

    assert_problem(unknown, 401, "invalid-credentials")
    assert_problem(wrong, 401, "invalid-credentials")
    assert verified[0] is None
    assert str(verified[1]).startswith("$argon2id$")


# Refresh-token rotation


async def test_refresh_returns_a_new_pair_that_works(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})

    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["refresh_token"] != alice.tokens["refresh_token"]
    assert pair["access_token"] != alice.tokens["access_token"]
    assert (await client.get(ME, headers=bearer(pair["access_token"]))).status_code == 200
    again = await client.post(REFRESH, json={"refresh_token": pair["refresh_token"]})
    assert again.status_code == 200, again.text


async def test_reusing_a_spent_refresh_token_ends_the_whole_session(
    client: httpx.AsyncClient, alice: Account
) -> None:
    first = alice.tokens
    rotated = (await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})).json()
    other_session = await log_in(client, alice.email, alice.password)

    reuse = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert_problem(reuse, 401, "invalid-refresh-token")
    newest = await client.post(REFRESH, json={"refresh_token": rotated["refresh_token"]})
    assert_problem(newest, 401, "invalid-refresh-token")
    assert_problem(await client.get(ME, headers=bearer(rotated["access_token"])), 401)
    assert_problem(await client.get(ME, headers=bearer(first["access_token"])), 401)
    # Another login of the same user is a different family and lives on.
    assert (await client.get(ME, headers=bearer(other_session["access_token"]))).status_code == 200


async def test_an_unknown_refresh_token_is_refused(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(REFRESH, json={"refresh_token": "not-a-token-we-issued"})

    assert_problem(response, 401, "invalid-refresh-token")


async def test_an_access_token_is_not_a_refresh_token(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(REFRESH, json={"refresh_token": alice.tokens["access_token"]})

    assert response.status_code in {401, 422}
    assert "access_token" not in response.text


async def test_two_concurrent_refreshes_with_one_token_never_both_succeed(
    client: httpx.AsyncClient, alice: Account
) -> None:
    body = {"refresh_token": alice.tokens["refresh_token"]}

    responses = await asyncio.gather(*(client.post(REFRESH, json=body) for _ in range(2)))

    statuses = sorted(r.status_code for r in responses)
    assert statuses in ([200, 401], [401, 401]), [r.text for r in responses]


async def test_refresh_after_the_idle_timeout_is_refused(
    client: httpx.AsyncClient, settings: Settings, clock: Clock
) -> None:
    await client.post(REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    tokens = await log_in(client, "ada@example.com", STRONG_PASSWORD)

    clock.advance(timedelta(seconds=settings.session_idle_timeout_seconds + 1))
    response = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

    assert_problem(response, 401, "invalid-refresh-token")


async def test_a_session_in_use_still_ends_at_its_absolute_lifetime(
    client: httpx.AsyncClient, settings: Settings, clock: Clock
) -> None:
    await client.post(REGISTER, json={"email": "ada@example.com", "password": STRONG_PASSWORD})
    refresh_token = (await log_in(client, "ada@example.com", STRONG_PASSWORD))["refresh_token"]
    step = timedelta(seconds=settings.session_idle_timeout_seconds - 60)
    lifetime = timedelta(seconds=settings.refresh_token_ttl_seconds)
    elapsed = timedelta(0)

    while elapsed + step < lifetime:
        clock.advance(step)
        elapsed += step
        response = await client.post(REFRESH, json={"refresh_token": refresh_token})
        assert response.status_code == 200, response.text
        refresh_token = response.json()["refresh_token"]
    clock.advance(lifetime - elapsed + timedelta(seconds=1))

    response = await client.post(REFRESH, json={"refresh_token": refresh_token})
    assert_problem(response, 401, "invalid-refresh-token")


async def test_a_disabled_account_cannot_refresh_its_tokens(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    await set_active(app, alice.email, False)

    response = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})

    assert_problem(response, 401, "invalid-refresh-token")


# Logout


async def test_logout_ends_only_that_session(client: httpx.AsyncClient, alice: Account) -> None:
    other = await log_in(client, alice.email, alice.password)

    response = await client.post(LOGOUT, headers=alice.headers)

    assert response.status_code == 204
    assert response.content == b""
    assert_problem(await client.get(ME, headers=alice.headers), 401)
    ended = await client.post(REFRESH, json={"refresh_token": alice.tokens["refresh_token"]})
    assert_problem(ended, 401, "invalid-refresh-token")
    assert (await client.get(ME, headers=bearer(other["access_token"]))).status_code == 200
    still = await client.post(REFRESH, json={"refresh_token": other["refresh_token"]})
    assert still.status_code == 200, still.text


async def test_logout_all_ends_every_session_of_the_user_only(
    client: httpx.AsyncClient, alice: Account, bob: Account
) -> None:
    other = await log_in(client, alice.email, alice.password)

    response = await client.post(LOGOUT_ALL, headers=alice.headers)

    assert response.status_code == 204
    for tokens in (alice.tokens, other):
        assert_problem(await client.get(ME, headers=bearer(tokens["access_token"])), 401)
        refused = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
        assert_problem(refused, 401, "invalid-refresh-token")
    assert (await client.get(ME, headers=bob.headers)).status_code == 200


@pytest.mark.parametrize("path", [LOGOUT, LOGOUT_ALL])
async def test_logout_needs_an_access_token(client: httpx.AsyncClient, path: str) -> None:
    assert_problem(await client.post(path), 401)
