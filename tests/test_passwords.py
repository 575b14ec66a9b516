"""Password hashing (argon2id, bcrypt read and upgraded) and the new-password policy."""

from __future__ import annotations

import random
import unicodedata
from typing import Any

import argon2
import bcrypt
import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.auth.passwords import PasswordHasher, Verification
from taskwell.auth.policy import PasswordPolicy, WeakPassword
from taskwell.settings import Settings
from taskwell.users.models import users
from tests.conftest import STRONG_PASSWORD, Account

# Small argon2 parameters keep the unit tests fast; the API tests use the defaults.
FAST: dict[str, Any] = {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}
KANJI = [chr(c) for c in range(0x4E00, 0x4E00 + 2000)]


def fullwidth(text: str) -> str:
    """Printable ASCII as its full-width forms (U+FF01...), which NFKC folds back."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def hasher_with(**overrides: Any) -> PasswordHasher:
    return PasswordHasher(Settings(env="test", **{**FAST, **overrides}))


@pytest.fixture
def hasher() -> PasswordHasher:
    return hasher_with()


@pytest.fixture
def policy() -> PasswordPolicy:
    return PasswordPolicy(Settings(env="test"))


def bcrypt_hash(password: str) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()


def kanji(count: int, seed: int = 3) -> str:
    return "".join(random.Random(seed).choices(KANJI, k=count))


# Hashing


async def test_hash_is_argon2id_with_the_configured_parameters() -> None:
    hasher = hasher_with(argon2_memory_kib=2048, argon2_time_cost=3, argon2_parallelism=2)

    stored = await hasher.hash(STRONG_PASSWORD)

    assert stored.startswith("$argon2id$v=19$m=2048,t=3,p=2$")
    assert STRONG_PASSWORD not in stored


async def test_the_same_password_hashes_differently_each_time(hasher: PasswordHasher) -> None:
    assert await hasher.hash(STRONG_PASSWORD) != await hasher.hash(STRONG_PASSWORD)


async def test_the_right_password_verifies_without_a_rehash(hasher: PasswordHasher) -> None:
    stored = await hasher.hash(STRONG_PASSWORD)

    assert await hasher.verify(stored, STRONG_PASSWORD) == Verification(ok=True)


@pytest.mark.parametrize(
    "attempt",
    [
        pytest.param(STRONG_PASSWORD + "x", id="extra-character"),
        pytest.param(STRONG_PASSWORD[:-1], id="missing-character"),
        pytest.param(STRONG_PASSWORD + " ", id="trailing-space"),
        pytest.param(STRONG_PASSWORD.upper(), id="other-case"),
        pytest.param("", id="empty"),
    ],
)
async def test_any_other_password_does_not_verify(hasher: PasswordHasher, attempt: str) -> None:
    stored = await hasher.hash(STRONG_PASSWORD)

    assert await hasher.verify(stored, attempt) == Verification(ok=False)


async def test_long_passwords_are_compared_in_full(hasher: PasswordHasher) -> None:
    password = kanji(128)
    stored = await hasher.hash(password)

    assert (await hasher.verify(stored, password)).ok
    assert not (await hasher.verify(stored, password[:-1] + "x")).ok


@pytest.mark.parametrize("stored", ["", "not-a-hash", "$argon2id$v=19$m=1024,t=1,p=1$broken"])
async def test_a_malformed_stored_hash_never_verifies(hasher: PasswordHasher, stored: str) -> None:
    assert await hasher.verify(stored, STRONG_PASSWORD) == Verification(ok=False)


async def test_verifying_against_no_account_still_runs_argon2(
    hasher: PasswordHasher, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = argon2.PasswordHasher.verify

    def spy(self: argon2.PasswordHasher, stored: str, password: str) -> bool:
        checked.append(stored)
        return real_verify(self, stored, password)

    monkeypatch.setattr(argon2.PasswordHasher, "verify", spy)

    result = await hasher.verify(None, STRONG_PASSWORD)

    assert result == Verification(ok=False)
    assert len(checked) == 1
    assert checked[0].startswith("$argon2id$")


async def test_changed_argon2_parameters_ask_for_a_rehash() -> None:
    stored = await hasher_with(argon2_time_cost=1).hash(STRONG_PASSWORD)

    result = await hasher_with(argon2_time_cost=2).verify(stored, STRONG_PASSWORD)

    assert result.ok
    assert result.new_hash is not None
    assert result.new_hash.startswith("$argon2id$v=19$m=1024,t=2,p=1$")


# Imported bcrypt hashes


async def test_a_bcrypt_hash_verifies_and_is_upgraded_to_argon2id(hasher: PasswordHasher) -> None:
    result = await hasher.verify(bcrypt_hash(STRONG_PASSWORD), STRONG_PASSWORD)

    assert result.ok
    assert result.new_hash is not None
    assert result.new_hash.startswith("$argon2id$v=19$m=1024,t=1,p=1$")
    assert await hasher.verify(result.new_hash, STRONG_PASSWORD) == Verification(ok=True)


async def test_a_bcrypt_hash_refuses_the_wrong_password(hasher: PasswordHasher) -> None:
    result = await hasher.verify(bcrypt_hash(STRONG_PASSWORD), STRONG_PASSWORD + "x")

    assert result == Verification(ok=False)


async def test_a_bcrypt_hash_never_matches_past_72_bytes(hasher: PasswordHasher) -> None:
    # bcrypt would see only the first 72 bytes; a longer password must not pass on them.
    password = "x" * 72 + "-and-more"

    result = await hasher.verify(bcrypt_hash(password[:72]), password)

    assert result == Verification(ok=False)


# Unicode normalisation


@pytest.mark.parametrize(
    ("registered", "typed"),
    [
        pytest.param("caf\u00e9 lantern orbit 42", "cafe\u0301 lantern orbit 42", id="composed"),
        pytest.param("cafe\u0301 lantern orbit 42", "caf\u00e9 lantern orbit 42", id="decomposed"),
        pytest.param(fullwidth("wide lantern 42"), "wide lantern 42", id="fullwidth"),
    ],
)
async def test_the_same_password_typed_another_way_verifies(
    hasher: PasswordHasher, registered: str, typed: str
) -> None:
    assert registered != typed
    assert unicodedata.normalize("NFKC", registered) == unicodedata.normalize("NFKC", typed)
    stored = await hasher.hash(registered)

    assert (await hasher.verify(stored, typed)).ok


# Policy for new passwords


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Zq8#vL2@pX9!", id="12-characters"),
        pytest.param("plum glacier whistles beyond marmalade", id="lower-case-words-only"),
        pytest.param("🐈🐕🦊🐻🐼🐨🐯🦁🐮🐷🐸🐵", id="12-emoji"),
        pytest.param(kanji(128), id="128-kanji-384-bytes"),
        pytest.param("x7" + kanji(126), id="128-characters-mixed"),
    ],
)
async def test_policy_accepts_long_unguessable_passwords_of_any_script(
    policy: PasswordPolicy, password: str
) -> None:
    await policy.check(password, context=["ada@example.com", "ada"])


@pytest.mark.parametrize(
    "password",
    [
        pytest.param("Zq8#vL2@pX9", id="11-characters"),
        pytest.param(kanji(129), id="129-characters"),
        pytest.param("", id="empty"),
    ],
)
async def test_policy_refuses_lengths_outside_12_to_128(
    policy: PasswordPolicy, password: str
) -> None:
    with pytest.raises(WeakPassword) as caught:
        await policy.check(password, context=[])

    assert caught.value.extra["errors"] == [
        {
            "field": "password",
            "in": "body",
            "message": "Use between 12 and 128 characters.",
            "code": "length",
        }
    ]


@pytest.mark.parametrize(
    "password",
    [
        "password123456",
        "qwertyuiopasdf",
        "123456789012345",
        "iloveyou12345678",
        "aaaaaaaaaaaaaaaa",
    ],
)
async def test_policy_refuses_common_and_patterned_passwords(
    policy: PasswordPolicy, password: str
) -> None:
    with pytest.raises(WeakPassword):
        await policy.check(password, context=[])


@pytest.mark.parametrize(
    "password",
    [
        pytest.param(fullwidth("password123456"), id="all-fullwidth"),
        pytest.param(fullwidth("p") + "assword123456", id="one-fullwidth-letter"),
        pytest.param(fullwidth("qwertyuiopasdf"), id="fullwidth-keyboard-walk"),
    ],
)
async def test_policy_judges_the_password_as_it_will_be_verified(
    policy: PasswordPolicy, password: str
) -> None:
    # NFKC makes these log in as "password123456"; they must be as weak as that is.
    with pytest.raises(WeakPassword):
        await policy.check(password, context=[])


async def test_policy_refuses_a_password_built_from_the_users_own_email(
    policy: PasswordPolicy,
) -> None:
    await policy.check("adalovelace1815", context=[])  # strong for anyone else

    with pytest.raises(WeakPassword):
        await policy.check(
            "adalovelace1815", context=["adalovelace1815@example.com", "adalovelace1815"]
        )


async def test_policy_refuses_nul_characters(policy: PasswordPolicy) -> None:
    with pytest.raises(WeakPassword):
        await policy.check(STRONG_PASSWORD + "\x00", context=[])


# Upgrades on login, through the API


async def stored_hash(app: FastAPI, email: str) -> str:
    async with app.state.context.db.transaction() as conn:
        value: str = (
            await conn.execute(sa.select(users.c.password_hash).where(users.c.email == email))
        ).scalar_one()
    return value


async def store_hash(app: FastAPI, email: str, password_hash: str) -> None:
    async with app.state.context.db.transaction() as conn:
        await conn.execute(
            sa.update(users).where(users.c.email == email).values(password_hash=password_hash)
        )


async def log_in(client: httpx.AsyncClient, account: Account, password: str) -> int:
    response = await client.post(
        "/api/v1/auth/login", json={"email": account.email, "password": password}
    )
    return response.status_code


async def test_login_with_an_imported_bcrypt_hash_upgrades_it_to_argon2id(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    await store_hash(app, alice.email, bcrypt_hash(alice.password))

    assert await log_in(client, alice, alice.password) == 200

    upgraded = await stored_hash(app, alice.email)
    assert upgraded.startswith(
        f"$argon2id$v=19$m={settings.argon2_memory_kib},t={settings.argon2_time_cost},"
        f"p={settings.argon2_parallelism}$"
    )
    assert await log_in(client, alice, alice.password) == 200
    assert await stored_hash(app, alice.email) == upgraded


async def test_a_failed_login_leaves_a_bcrypt_hash_alone(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    imported = bcrypt_hash(alice.password)
    await store_hash(app, alice.email, imported)

    assert await log_in(client, alice, alice.password + "x") == 401

    assert await stored_hash(app, alice.email) == imported


async def test_login_rehashes_a_password_stored_with_old_argon2_parameters(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings, alice: Account
) -> None:
    old = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    await store_hash(app, alice.email, old.hash(alice.password))

    assert await log_in(client, alice, alice.password) == 200

    rehashed = await stored_hash(app, alice.email)
    assert rehashed.startswith(
        f"$argon2id$v=19$m={settings.argon2_memory_kib},t={settings.argon2_time_cost},"
        f"p={settings.argon2_parallelism}$"
    )
    assert await log_in(client, alice, alice.password) == 200
    assert await stored_hash(app, alice.email) == rehashed


async def test_a_password_registered_composed_logs_in_typed_decomposed(
    client: httpx.AsyncClient,
) -> None:
    registered = "caf\u00e9 lantern orbit 42 tractor"
    body = {"email": "ada@example.com", "password": registered}
    assert (await client.post("/api/v1/auth/register", json=body)).status_code == 201

    typed = unicodedata.normalize("NFD", registered)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "ada@example.com", "password": typed}
    )

    assert response.status_code == 200, response.text
