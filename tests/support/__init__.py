"""Helpers shared by the rate-limit, throttle and fault tests: an app served in-process with
chosen settings (as conftest's `app`/`client` fixtures build it), and accounts made through it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD, _empty_tables

LOGIN = "/api/v1/auth/login"
REGISTER = "/api/v1/auth/register"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/users/me"
TASKS = "/api/v1/tasks"


ResponseHook = Callable[[httpx.Response], Awaitable[None]]


@asynccontextmanager
async def serve(
    settings: Settings, *, peer: str = "127.0.0.1", on_response: ResponseHook | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan running and empty tables; requests arrive from `peer`, and
    `on_response` sees every response."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _empty_tables(app)
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(peer, 50000))
        hooks = {"response": [on_response]} if on_response is not None else {}
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", event_hooks=hooks
        ) as client:
            yield client


async def register(
    client: httpx.AsyncClient,
    email: str,
    password: str = STRONG_PASSWORD,
    headers: Mapping[str, str] | None = None,
) -> None:
    response = await client.post(
        REGISTER, json={"email": email, "password": password}, headers=headers
    )
    assert response.status_code == 201, response.text


async def login(
    client: httpx.AsyncClient,
    email: str,
    password: str = STRONG_PASSWORD,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    return await client.post(LOGIN, json={"email": email, "password": password}, headers=headers)


async def sign_up(
    client: httpx.AsyncClient, email: str, headers: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Register and log in; the token response."""
    await register(client, email, headers=headers)
    response = await login(client, email, headers=headers)
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def bearer(tokens: Mapping[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def forwarded(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}
