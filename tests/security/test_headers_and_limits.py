"""Security headers on every response; CORS closed by default; request shape caps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem

EXPECTED = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "x-frame-options": "DENY",
}


def _assert_security_headers(response: httpx.Response) -> None:
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    csp = response.headers["content-security-policy"]
    assert "object-src 'none'" in csp
    assert "base-uri 'none'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "camera=()" in response.headers["permissions-policy"]


async def test_success_error_and_operational_responses_carry_the_headers(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for response in (
        await client.get("/api/v1/tasks", headers=alice.headers),
        await client.get("/api/v1/tasks"),
        await client.get("/api/v1/nowhere"),
        await client.post(
            "/api/v1/auth/login", content=b"{", headers={"content-type": "application/json"}
        ),
        await client.get("/healthz"),
        await client.get("/api/v1/openapi.json"),
    ):
        _assert_security_headers(response)


@pytest.fixture
def serve(settings_factory: Callable[..., Settings]) -> Callable[..., Any]:
    def build(**overrides: Any) -> Any:
        app = create_app(settings_factory(**overrides))

        class Served:
            async def __aenter__(self) -> httpx.AsyncClient:
                self._lifespan = app.router.lifespan_context(app)
                await self._lifespan.__aenter__()
                transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
                self._client = httpx.AsyncClient(transport=transport, base_url="http://t")
                return self._client

            async def __aexit__(self, *exc: object) -> None:
                await self._client.aclose()
                await self._lifespan.__aexit__(None, None, None)

        return Served(), app

    return build


async def test_a_500_carries_the_headers_too(serve: Callable[..., Any]) -> None:
    served, app = serve()

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("boom")

    async with served as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    _assert_security_headers(response)


async def test_hsts_is_sent_in_production_only(serve: Callable[..., Any]) -> None:
    served, _ = serve()
    async with served as client:
        assert "strict-transport-security" not in (await client.get("/healthz")).headers
    served, _ = serve(env="production", secret_key="s" * 40)
    async with served as client:
        hsts = (await client.get("/healthz")).headers["strict-transport-security"]
    assert hsts.startswith("max-age=31536000")


async def test_cors_is_closed_unless_origins_are_listed(serve: Callable[..., Any]) -> None:
    preflight = {
        "Origin": "https://app.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    served, _ = serve()
    async with served as client:
        closed = await client.options("/api/v1/tasks", headers=preflight)
        plain = await client.get("/healthz", headers={"Origin": "https://app.example"})
    assert "access-control-allow-origin" not in closed.headers
    assert "access-control-allow-origin" not in plain.headers

    served, _ = serve(cors_origins="https://app.example")
    async with served as client:
        allowed = await client.options("/api/v1/tasks", headers=preflight)
        other = await client.options(
            "/api/v1/tasks", headers={**preflight, "Origin": "https://evil.example"}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


async def test_deeply_nested_json_is_refused(client: httpx.AsyncClient, alice: Account) -> None:
    body = b'{"title": "x", "description": ' + b"[" * 50 + b"]" * 50 + b"}"
    response = await client.post(
        "/api/v1/tasks", content=body, headers={**alice.headers, "content-type": "application/json"}
    )
    assert_problem(response, 422, "json-too-complex")


async def test_very_deep_json_is_refused_not_crashed(client: httpx.AsyncClient) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code in {413, 422}
    assert response.headers["content-type"] == "application/problem+json"


async def test_long_json_arrays_are_refused(client: httpx.AsyncClient) -> None:
    body = b'{"email": "a@b.co", "password": [' + b",".join([b"1"] * 5000) + b"]}"
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert_problem(response, 422, "json-too-complex")


async def test_ordinary_json_passes_the_shape_check(
    client: httpx.AsyncClient, alice: Account
) -> None:
    response = await client.post(
        "/api/v1/tasks", json={"title": "fine", "description": "[[]]"}, headers=alice.headers
    )
    assert response.status_code == 201


async def test_overlong_urls_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tasks?q=" + "a" * 9000)
    assert_problem(response, 414, "uri-too-long")


async def test_oversized_headers_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.get("/healthz", headers={"X-Padding": "a" * 20_000})
    assert_problem(response, 431, "headers-too-large")
