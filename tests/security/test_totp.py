"""Optional TOTP second factor with single-use recovery codes; secrets encrypted at rest."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import pyotp
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell.auth.models import auth_totp
from taskwell.crypto import new_key
from tests.conftest import Account, assert_problem

TOTP = "/api/v1/auth/totp"
LOGIN = "/api/v1/auth/login"


async def _enable(client: httpx.AsyncClient, account: Account) -> tuple[str, list[str]]:
    setup = (await client.post(f"{TOTP}/setup", headers=account.headers)).json()
    secret = setup["secret"]
    assert setup["otpauth_uri"].startswith("otpauth://totp/Taskwell:")
    enabled = await client.post(
        f"{TOTP}/enable", json={"code": pyotp.TOTP(secret).now()}, headers=account.headers
    )
    assert enabled.status_code == 200, enabled.text
    codes: list[str] = enabled.json()["recovery_codes"]
    return secret, codes


def _login(account: Account, **extra: Any) -> dict[str, Any]:
    return {"email": account.email, "password": account.password, **extra}


async def test_totp_is_off_until_confirmed_with_a_code(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await client.post(f"{TOTP}/setup", headers=alice.headers)
    assert (await client.get(TOTP, headers=alice.headers)).json() == {"enabled": False}
    assert (await client.post(LOGIN, json=_login(alice))).status_code == 200

    wrong = await client.post(f"{TOTP}/enable", json={"code": "000000"}, headers=alice.headers)
    assert_problem(wrong, 401, "invalid-otp")


async def test_with_totp_on_login_needs_a_current_code(
    client: httpx.AsyncClient, alice: Account
) -> None:
    secret, _ = await _enable(client, alice)
    assert (await client.get(TOTP, headers=alice.headers)).json() == {"enabled": True}

    assert_problem(await client.post(LOGIN, json=_login(alice)), 401, "otp-required")
    assert_problem(await client.post(LOGIN, json=_login(alice, otp="123456")), 401, "invalid-otp")
    # The code used to enable is spent; the next step's code works.
    later = pyotp.TOTP(secret).at(time.time() + 30)
    assert (await client.post(LOGIN, json=_login(alice, otp=later))).status_code == 200


async def test_a_code_is_accepted_only_once(client: httpx.AsyncClient, alice: Account) -> None:
    secret, _ = await _enable(client, alice)
    code = pyotp.TOTP(secret).at(time.time() + 30)
    assert (await client.post(LOGIN, json=_login(alice, otp=code))).status_code == 200
    assert_problem(await client.post(LOGIN, json=_login(alice, otp=code)), 401, "invalid-otp")


async def test_recovery_codes_work_once_each(client: httpx.AsyncClient, alice: Account) -> None:
    _, codes = await _enable(client, alice)
    assert len(codes) == 10
    assert len(set(codes)) == 10

    first = await client.post(LOGIN, json=_login(alice, recovery_code=codes[0]))
    again = await client.post(LOGIN, json=_login(alice, recovery_code=codes[0]))
    other = await client.post(LOGIN, json=_login(alice, recovery_code=codes[1].upper()))

    assert first.status_code == 200
    assert_problem(again, 401, "invalid-otp")
    assert other.status_code == 200


async def test_wrong_password_is_refused_before_the_code_is_asked(
    client: httpx.AsyncClient, alice: Account
) -> None:
    await _enable(client, alice)
    response = await client.post(
        LOGIN,
        json={"email": alice.email, "password": "not the password at all", "otp": "123456"},
    )
    assert_problem(response, 401, "invalid-credentials")


async def test_disabling_needs_the_password(client: httpx.AsyncClient, alice: Account) -> None:
    await _enable(client, alice)
    wrong = await client.post(
        f"{TOTP}/disable", json={"password": "wrong password here"}, headers=alice.headers
    )
    assert_problem(wrong, 401, "invalid-credentials")

    right = await client.post(
        f"{TOTP}/disable", json={"password": alice.password}, headers=alice.headers
    )
    assert right.status_code == 204
    assert (await client.post(LOGIN, json=_login(alice))).status_code == 200


async def test_the_secret_is_stored_encrypted(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    secret, codes = await _enable(client, alice)
    async with app.state.context.db.transaction() as conn:
        stored = (await conn.execute(sa.select(auth_totp.c.secret_enc))).scalar_one()
        dump = " ".join(
            str(row)
            for row in (await conn.execute(sa.text("SELECT * FROM auth_recovery_codes"))).all()
        )
    assert stored.startswith("v1.")
    assert secret not in stored
    assert not any(code in dump for code in codes)


async def test_keys_rotate_re_encrypts_to_the_newest_key(
    settings_factory: Callable[..., Any], client: httpx.AsyncClient, alice: Account, app: FastAPI
) -> None:
    secret, _ = await _enable(client, alice)
    from taskwell.context import AppContext

    rotated = settings_factory(encryption_keys=f"k9:{new_key()}")
    async with AppContext.open(rotated) as ctx:
        assert await ctx.totp.rotate_keys() == 1
        assert await ctx.totp.rotate_keys() == 0
        async with ctx.db.transaction() as conn:
            stored = (await conn.execute(sa.select(auth_totp.c.secret_enc))).scalar_one()
        assert stored.startswith("v1.k9.")
        # Still the same secret: login with a code from it works under the new key.
        code = pyotp.TOTP(secret).at(time.time() + 30)
        from taskwell.auth.service import ClientInfo

        pair = await ctx.auth.login(
            email=alice.email, password=alice.password, client=ClientInfo("", ""), otp=code
        )
        assert pair.access_token
