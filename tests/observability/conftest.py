"""An app whose log lines are captured, and readers for the process-wide metrics."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from taskwell.app import create_app
from taskwell.db.schema import metadata
from taskwell.settings import Settings
from tests.conftest import STRONG_PASSWORD

API = "/api/v1"
REGISTER = f"{API}/auth/register"
LOGIN = f"{API}/auth/login"
REFRESH = f"{API}/auth/refresh"
LOGOUT = f"{API}/auth/logout"
ME = f"{API}/users/me"
PASSWORD = f"{API}/users/me/password"
TASKS = f"{API}/tasks"

ACCESS_LOGGER = "taskwell.access"


def metric(name: str, **labels: str) -> float:
    """A sample's current value in this process (0 before it was first observed).

    Metrics are process-wide and shared by every test, so tests compare before and after."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value


@dataclass
class Observed:
    """The app, a client for it, and every line it logged."""

    app: FastAPI
    client: httpx.AsyncClient
    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def access_lines(self, request_id: str | None = None) -> list[dict[str, Any]]:
        return [
            line
            for line in self.lines()
            if line.get("logger") == ACCESS_LOGGER
            and (request_id is None or line.get("request_id") == request_id)
        ]


async def _empty_tables(app: FastAPI) -> None:
    async with app.state.context.db.transaction() as conn:
        for table in reversed(metadata.sorted_tables):
            await conn.execute(table.delete())


ObserveApp = Callable[..., AbstractAsyncContextManager[Observed]]


@pytest.fixture
def observe(settings_factory: Callable[..., Settings]) -> ObserveApp:
    """`async with observe(**settings) as observed:` the app, started with empty tables,
    logging JSON lines into a buffer; `prepare(app)` runs first (to add a route)."""

    @asynccontextmanager
    async def start(
        prepare: Callable[[FastAPI], None] | None = None, **overrides: Any
    ) -> AsyncIterator[Observed]:
        settings = settings_factory(**{"log_format": "json", **overrides})
        stream = io.StringIO()
        app = create_app(settings, log_stream=stream)
        if prepare is not None:
            prepare(app)
        async with app.router.lifespan_context(app):
            await _empty_tables(app)
            transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                yield Observed(app, c, stream)

    return start


def bearer(access_token: str) -> Mapping[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@dataclass
class SignedUp:
    email: str
    password: str
    user_id: str
    access_token: str
    refresh_token: str

    @property
    def headers(self) -> Mapping[str, str]:
        return bearer(self.access_token)


async def sign_up(
    client: httpx.AsyncClient, email: str, password: str = STRONG_PASSWORD
) -> SignedUp:
    """Register and log in through the API."""
    registered = await client.post(REGISTER, json={"email": email, "password": password})
    assert registered.status_code == 201, registered.text
    tokens = await client.post(LOGIN, json={"email": email, "password": password})
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    return SignedUp(
        email, password, registered.json()["id"], body["access_token"], body["refresh_token"]
    )
