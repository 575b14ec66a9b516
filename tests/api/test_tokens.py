"""Access tokens: only a JWT we signed, for this API, of the access type, for a live session."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI

from taskwell.app import create_app
from taskwell.auth.tokens import TokenCodec
from taskwell.db.schema import metadata
from taskwell.db.types import utcnow
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, Account, assert_problem
from tests.support.accounts import set_active

ME = "/api/v1/users/me"
OTHER_SECRET = "an-attackers-secret-that-is-long-enough-for-hs256"
OLD_SECRET = "the-previous-signing-secret-0123456789abcdef"
NEW_SECRET = "the-current-signing-secret-0123456789abcdef"

Claims = dict[str, Any]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_of(token: str) -> Claims:
    claims: Claims = jwt.decode(token, options={"verify_signature": False})
    return claims


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def sign(claims: Claims, key: str, **header: Any) -> str:
    """An HS256 JWT with the header our tokens carry unless overridden (None drops a field)."""
    headers = {"kid": "k1", "typ": "at+jwt", **header}
    kid = headers.pop("kid")
    if kid is not None:
        headers["kid"] = kid
    return jwt.encode(claims, key, algorithm=headers.pop("alg", "HS256"), headers=headers)


def unsigned(claims: Claims) -> str:
    header = {"alg": "none", "kid": "k1", "typ": "at+jwt"}
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}."


def with_payload(token: str, claims: Claims) -> str:
    """The token with its payload swapped and its original signature kept."""
    header, _, signature = token.split(".")
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


@asynccontextmanager
async def serve(
    settings: Settings, *, empty: bool = True
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app on custom settings, started like the conftest `app` fixture."""
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        if empty:
            async with application.state.context.db.transaction() as conn:
                for table in reversed(metadata.sorted_tables):
                    await conn.execute(table.delete())
        transport = httpx.ASGITransport(app=application, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield application, c


async def register_and_log_in(client: httpx.AsyncClient) -> str:
    """A new account's access token."""
    body = {"email": "ada@example.com", "password": STRONG_PASSWORD}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201
    response = await client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def assert_refused(response: httpx.Response) -> None:
    assert_problem(response, 401)
    assert response.headers["www-authenticate"].startswith("Bearer")


# Presenting a token


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-authorization"),
        pytest.param({"Authorization": "Bearer "}, id="empty-bearer"),
        pytest.param({"Authorization": "Basic YWxpY2U6c2VjcmV0"}, id="basic-scheme"),
        pytest.param({"Authorization": "Bearer not.a.jwt"}, id="garbage"),
    ],
)
async def test_a_request_without_a_usable_bearer_token_is_refused(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    assert_refused(await client.get(ME, headers=headers))


async def test_a_token_issued_with_the_configured_key_is_accepted(
    client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    # The control for the attacks below: a correctly made token does get in.
    claims = claims_of(alice.tokens["access_token"])
    claims["jti"] = "another-id"

    token = sign(claims, settings.secret_key.get_secret_value())

    response = await client.get(ME, headers=bearer(token))

    assert response.status_code == 200, response.text


async def test_a_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, alice: Account
) -> None:
    assert_refused(await client.get(ME, headers=bearer(alice.tokens["refresh_token"])))


# Forged and altered tokens

Attack = Callable[[Claims, str, str], str]


def _tampered_sub(claims: Claims, token: str, secret: str) -> str:
    return with_payload(token, {**claims, "sub": str(uuid.uuid4())})


def _tampered_exp(claims: Claims, token: str, secret: str) -> str:
    return with_payload(token, {**claims, "exp": claims["exp"] + 86_400})


ATTACKS: dict[str, Attack] = {
    "alg-none": lambda c, t, s: unsigned(c),
    "alg-none-with-original-signature": lambda c, t, s: unsigned(c) + t.split(".")[2],
    "hs256-with-another-key": lambda c, t, s: sign(c, OTHER_SECRET),
    "hs512-with-our-key": lambda c, t, s: sign(c, s, alg="HS512"),
    "tampered-sub": _tampered_sub,
    "tampered-exp": _tampered_exp,
    "unknown-kid": lambda c, t, s: sign(c, s, kid="k9"),
    "missing-kid": lambda c, t, s: sign(c, s, kid=None),
    "kid-path-traversal": lambda c, t, s: sign(c, s, kid="../../../dev/null"),
    "typ-jwt": lambda c, t, s: sign(c, s, typ="JWT"),
    "missing-typ": lambda c, t, s: sign(c, s, typ=None),
    "wrong-audience": lambda c, t, s: sign({**c, "aud": "another-api"}, s),
    "wrong-issuer": lambda c, t, s: sign({**c, "iss": "someone-else"}, s),
    "expired-exp": lambda c, t, s: sign({**c, "exp": c["iat"] - 1}, s),
    "missing-exp": lambda c, t, s: sign({k: v for k, v in c.items() if k != "exp"}, s),
    "missing-sid": lambda c, t, s: sign({k: v for k, v in c.items() if k != "sid"}, s),
    "sub-not-a-uuid": lambda c, t, s: sign({**c, "sub": "admin"}, s),
    "embedded-jwk": lambda c, t, s: sign(
        c, OTHER_SECRET, jwk={"kty": "oct", "k": b64(OTHER_SECRET.encode())}
    ),
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")  # hs512 case
@pytest.mark.parametrize("attack", list(ATTACKS))
async def test_a_forged_or_altered_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, alice: Account, attack: str
) -> None:
    token = alice.tokens["access_token"]
    forged = ATTACKS[attack](claims_of(token), token, settings.secret_key.get_secret_value())

    assert_refused(await client.get(ME, headers=bearer(forged)))
    # The genuine token is unharmed by the attempt.
    assert (await client.get(ME, headers=bearer(token))).status_code == 200


async def test_an_expired_token_is_refused(
    client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    claims = claims_of(alice.tokens["access_token"])
    issued = utcnow() - timedelta(seconds=settings.access_token_ttl_seconds + 60)
    expired = TokenCodec(settings).issue_access(
        uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), issued
    )

    response = await client.get(ME, headers=bearer(expired))

    assert_refused(response)
    assert "expired" in response.json()["detail"]


async def test_a_token_naming_another_users_session_is_refused(
    client: httpx.AsyncClient, settings: Settings, alice: Account, bob: Account
) -> None:
    alice_claims = claims_of(alice.tokens["access_token"])
    bob_claims = claims_of(bob.tokens["access_token"])
    mixed = TokenCodec(settings).issue_access(
        uuid.UUID(alice_claims["sub"]), uuid.UUID(bob_claims["sid"]), utcnow()
    )

    assert_refused(await client.get(ME, headers=bearer(mixed)))
    assert (await client.get(ME, headers=bob.headers)).json()["email"] == bob.email


async def test_a_token_for_a_session_that_never_existed_is_refused(
    client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    claims = claims_of(alice.tokens["access_token"])
    token = TokenCodec(settings).issue_access(uuid.UUID(claims["sub"]), uuid.uuid4(), utcnow())

    assert_refused(await client.get(ME, headers=bearer(token)))


# Key rotation


async def test_issued_tokens_name_the_current_key(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(secret_key=NEW_SECRET, jwt_key_id="k2")
    async with serve(settings) as (_, client):
        token = await register_and_log_in(client)

    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "kid": "k2", "typ": "at+jwt"}
    jwt.decode(token, NEW_SECRET, algorithms=["HS256"], audience=settings.jwt_audience)


async def test_a_token_signed_with_a_previous_key_works_until_that_key_is_dropped(
    settings_factory: Callable[..., Settings],
) -> None:
    old = settings_factory(secret_key=OLD_SECRET, jwt_key_id="old")
    overlap = settings_factory(
        secret_key=NEW_SECRET, jwt_key_id="new", jwt_previous_keys=f"old={OLD_SECRET}"
    )
    after = settings_factory(secret_key=NEW_SECRET, jwt_key_id="new")

    async with serve(overlap) as (_, client):
        claims = claims_of(await register_and_log_in(client))
        old_token = TokenCodec(old).issue_access(
            uuid.UUID(claims["sub"]), uuid.UUID(claims["sid"]), utcnow()
        )
        accepted = await client.get(ME, headers=bearer(old_token))
        # kid only picks a key: the old kid with the new secret is a forgery.
        mislabelled = sign(claims, NEW_SECRET, kid="old")
        assert_refused(await client.get(ME, headers=bearer(mislabelled)))

        async with serve(after, empty=False) as (_, rotated_client):
            rejected = await rotated_client.get(ME, headers=bearer(old_token))

    assert accepted.status_code == 200, accepted.text
    assert_refused(rejected)


async def test_a_previous_key_cannot_replace_the_current_key_id(
    settings_factory: Callable[..., Settings],
) -> None:
    settings = settings_factory(
        secret_key=NEW_SECRET, jwt_key_id="k1", jwt_previous_keys=f"k1={OTHER_SECRET}"
    )

    async with serve(settings) as (_, client):
        claims = claims_of(await register_and_log_in(client))
        forged = sign(claims, OTHER_SECRET, kid="k1")

        assert_refused(await client.get(ME, headers=bearer(forged)))


# A live session


@pytest.fixture
def no_session_cache(settings_factory: Callable[..., Settings]) -> Settings:
    return settings_factory(session_check_cache_seconds=0)


async def test_disabling_an_account_rejects_its_access_tokens_at_once_without_a_cache(
    no_session_cache: Settings,
) -> None:
    async with serve(no_session_cache) as (app, client):
        token = await register_and_log_in(client)
        assert (await client.get(ME, headers=bearer(token))).status_code == 200

        await set_active(app, "ada@example.com", False)

        assert_refused(await client.get(ME, headers=bearer(token)))


class FakeMonotonic:
    """Stands in for the session guard's clock, so its cache can age without sleeping."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now


async def test_a_disabled_accounts_tokens_stop_working_once_the_session_check_is_due(
    app: FastAPI,
    client: httpx.AsyncClient,
    settings: Settings,
    alice: Account,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake = FakeMonotonic()
    monkeypatch.setattr("taskwell.auth.session_guard.time", fake)
    assert (await client.get(ME, headers=alice.headers)).status_code == 200

    await set_active(app, alice.email, False)
    fake.now += settings.session_check_cache_seconds

    assert_refused(await client.get(ME, headers=alice.headers))


async def test_an_access_token_dies_with_its_session_at_the_absolute_lifetime(
    no_session_cache: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    login_time = utcnow()
    monkeypatch.setattr("taskwell.auth.service.utcnow", lambda: login_time)
    async with serve(no_session_cache) as (_, client):
        token = await register_and_log_in(client)
        assert (await client.get(ME, headers=bearer(token))).status_code == 200

        lifetime = timedelta(seconds=no_session_cache.refresh_token_ttl_seconds)
        monkeypatch.setattr("taskwell.auth.service.utcnow", lambda: login_time + lifetime)

        assert_refused(await client.get(ME, headers=bearer(token)))
