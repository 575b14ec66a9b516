"""API responses are compressed (brotli or gzip, as Accept-Encoding allows) when they are
text and large enough; nothing else changes about them."""

from __future__ import annotations

import gzip
from collections.abc import AsyncIterator, Callable

import httpx
import orjson
import pytest

from taskwell.app import create_app
from taskwell.http.compression import BROTLI, GZIP, choose_encoding
from taskwell.settings import Settings
from tests.conftest import Account
from tests.webapp.conftest import get_raw

OPENAPI = "/api/v1/openapi.json"


@pytest.mark.parametrize("accept", ["gzip", "gzip, deflate, br, zstd", "br;q=1, gzip;q=0.5"])
async def test_large_json_is_gzipped_when_accepted(client: httpx.AsyncClient, accept: str) -> None:
    plain, plain_raw = await get_raw(client, OPENAPI, **{"Accept-Encoding": "identity"})
    response, raw = await get_raw(client, OPENAPI, **{"Accept-Encoding": accept})

    assert response.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in response.headers["vary"].lower()
    assert response.headers["content-length"] == str(len(raw))
    assert len(raw) < len(plain_raw) / 3
    assert orjson.loads(gzip.decompress(raw)) == orjson.loads(plain_raw)
    assert "content-encoding" not in plain.headers


@pytest.mark.parametrize("accept", ["br", "deflate, zstd", "gzip;q=0", "identity"])
async def test_without_gzip_json_is_sent_as_it_is(client: httpx.AsyncClient, accept: str) -> None:
    response, raw = await get_raw(client, OPENAPI, **{"Accept-Encoding": accept})

    assert "content-encoding" not in response.headers
    assert orjson.loads(raw)["openapi"]


async def test_small_responses_are_sent_as_they_are(client: httpx.AsyncClient) -> None:
    response, raw = await get_raw(client, "/healthz", **{"Accept-Encoding": "gzip, br"})

    assert "content-encoding" not in response.headers
    assert orjson.loads(raw) == {"status": "ok"}


async def test_a_compressed_task_list_keeps_its_etag_and_304(
    client: httpx.AsyncClient, alice: Account
) -> None:
    for n in range(20):
        created = await client.post(
            "/api/v1/tasks", json={"title": f"Task number {n} " + "x" * 40}, headers=alice.headers
        )
        assert created.status_code == 201
    plain = await client.get(
        "/api/v1/tasks", headers={**alice.headers, "Accept-Encoding": "identity"}
    )
    compressed, raw = await get_raw(
        client, "/api/v1/tasks", **alice.headers, **{"Accept-Encoding": "gzip"}
    )

    assert compressed.headers["content-encoding"] == "gzip"
    assert orjson.loads(gzip.decompress(raw)) == plain.json()
    assert compressed.headers["etag"] == plain.headers["etag"]
    again = await client.get(
        "/api/v1/tasks",
        headers={
            **alice.headers,
            "Accept-Encoding": "gzip",
            "If-None-Match": plain.headers["etag"],
        },
    )
    assert again.status_code == 304
    assert "content-encoding" not in again.headers


@pytest.fixture
async def uncompressed(
    settings_factory: Callable[..., Settings],
) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings_factory(compression_enabled=False))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_compression_can_be_turned_off(uncompressed: httpx.AsyncClient) -> None:
    response, _ = await get_raw(uncompressed, OPENAPI, **{"Accept-Encoding": "gzip, br"})

    assert "content-encoding" not in response.headers


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("GZIP;q=0.8, br;q=0.9", "br"),
        ("br;q=0.1, gzip;q=0.9", "gzip"),
        ("gzip, br", "br"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("br;q=0, gzip;q=0", None),
        ("br;q=nonsense, gzip", "gzip"),
        ("deflate, zstd", None),
    ],
)
def test_the_coding_follows_the_q_values(accept: str, chosen: str | None) -> None:
    """For a file with both precompressed copies; ties go to brotli, the smaller."""
    assert choose_encoding(accept, (BROTLI, GZIP)) == chosen


async def test_responses_with_secrets_are_never_compressed(
    settings_factory: Callable[..., Settings],
) -> None:
    """BREACH: a token or key compressed together with input the client chose leaks through
    the compressed length. Even with a 1-byte threshold, these go out as they are."""
    app = create_app(settings_factory(compression_min_bytes=1))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            gz = {"Accept-Encoding": "gzip"}
            email, password = "breach@example.com", "correct horse battery staple 42"
            registered = await c.post(
                "/api/v1/auth/register", json={"email": email, "password": password}, headers=gz
            )
            login = await c.post(
                "/api/v1/auth/login", json={"email": email, "password": password}, headers=gz
            )
            cookie = await c.post(
                "/api/v1/auth/cookie/login", json={"email": email, "password": password}, headers=gz
            )
            me = await c.get(
                "/api/v1/users/me",
                headers={**gz, "Authorization": f"Bearer {login.json()['access_token']}"},
            )
    assert registered.status_code == 201
    assert login.status_code == 200
    assert cookie.status_code == 200
    for response in (registered, login, cookie):
        assert "content-encoding" not in response.headers
    assert me.headers["content-encoding"] == "gzip"  # the threshold is really 1 byte
