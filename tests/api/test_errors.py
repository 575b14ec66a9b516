"""Every error is problem+json with a stable type and the request id; bad input never 500s."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import exc as sa_exc

from taskwell.app import create_app
from taskwell.settings import Settings
from tests.conftest import Account, assert_problem


async def test_unknown_route_is_a_404_problem(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/v1/nothing-here"), 404, "not-found")


async def test_wrong_method_is_a_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.put("/api/v1/auth/login", json={})
    assert_problem(response, 405, "method-not-allowed")
    assert "POST" in response.headers["allow"]


async def test_trace_is_refused(client: httpx.AsyncClient) -> None:
    assert_problem(await client.request("TRACE", "/api/v1/tasks"), 405, "method-not-allowed")


async def test_malformed_json_is_a_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b'{"email": "a@b.co", "password": ',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 400, "malformed-body")


async def test_validation_errors_name_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", json={"email": "not-an-email", "password": 5, "extra": True}
    )
    body = assert_problem(response, 422, "validation-error")
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"email", "password", "extra"}
    assert all(e["in"] == "body" for e in body["errors"])


async def test_validation_error_does_not_echo_the_input(client: httpx.AsyncClient) -> None:
    secret = "a-secret-that-must-not-echo"
    response = await client.post("/api/v1/auth/login", json={"email": 1, "password": [secret]})
    assert_problem(response, 422, "validation-error")
    assert secret not in response.text


async def test_body_over_the_cap_is_a_413(settings_factory, client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register",
        content=b'{"email": "' + b"a" * 1_100_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert_problem(response, 413, "payload-too-large")


async def test_streamed_body_over_the_cap_is_a_413(client: httpx.AsyncClient) -> None:
    async def chunks():
        for _ in range(20):
            yield b"x" * 100_000

    response = await client.post(
        "/api/v1/auth/register", content=chunks(), headers={"content-type": "application/json"}
    )
    assert_problem(response, 413, "payload-too-large")


async def test_invalid_uuid_in_path_is_a_422(client: httpx.AsyncClient, alice: Account) -> None:
    response = await client.get("/api/v1/tasks/not-a-uuid", headers=alice.headers)
    body = assert_problem(response, 422, "validation-error")
    assert body["errors"][0]["in"] == "path"


async def test_well_formed_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nope", headers={"X-Request-ID": "req-12345678"})
    assert response.headers["x-request-id"] == "req-12345678"
    assert response.json()["request_id"] == "req-12345678"


async def test_malformed_request_id_is_replaced(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/nope", headers={"X-Request-ID": "bad id\twith junk"})
    assert response.headers["x-request-id"] != "bad id\twith junk"
    assert len(response.headers["x-request-id"]) == 32


async def test_successful_responses_carry_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.headers["x-request-id"]


async def test_openapi_document_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/api/v1/openapi.json")).json()
    assert "/api/v1/tasks" in spec["paths"]
    assert "/api/v1/auth/login" in spec["paths"]
    docs = await client.get("/api/docs")
    assert docs.status_code == 200
    assert "swagger" in docs.text.lower()


async def test_unauthenticated_request_is_a_401_with_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/tasks")
    assert_problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_production_500_shows_no_internals(settings_factory) -> None:
    settings: Settings = settings_factory(env="production", secret_key="s" * 40)
    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("database password is hunter2")

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.get("/boom")
    body = assert_problem(response, 500, "internal-error")
    assert "hunter2" not in response.text
    assert "RuntimeError" not in response.text
    assert body["request_id"]


async def test_docs_are_off_in_production(settings_factory) -> None:
    app = create_app(settings_factory(env="production", secret_key="s" * 40))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/api/docs")).status_code == 404
            assert (await client.get("/api/v1/openapi.json")).status_code == 200


class _DriverError(Exception):
    """A driver error as asyncpg raises it: a message and, for server errors, a SQLSTATE."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("error", "status"),
    [
        # PgBouncer cannot reach the server / the server is going away: retry later.
        (_DriverError("server login has been failing", "08P01"), 503),
        (_DriverError("terminating connection due to administrator command", "57P01"), 503),
        (_DriverError("connection was closed in the middle of operation"), 503),
        # asyncpg, asked about a connection it already took back after losing it.
        (_DriverError("cannot call Connection.is_closed(): connection is closed"), 503),
        # A real bug stays a 500.
        (_DriverError('duplicate key value violates unique constraint "x"', "23505"), 500),
        # Two transactions in each other's way: nothing saved, the same request may go through.
        (_DriverError("deadlock detected", "40P01"), "write-conflict"),
        (_DriverError("could not serialize access", "40001"), "write-conflict"),
    ],
)
async def test_a_database_that_went_away_is_a_503_and_a_bug_a_500(
    settings_factory, error: Exception, status: int | str
) -> None:
    app = create_app(settings_factory())

    @app.get("/db")
    async def db() -> None:
        # As the read pool wraps its driver's errors, and as SQLAlchemy's adapter does (cause).
        raise sa_exc.DBAPIError("SELECT 1", (), error)

    @app.get("/adapted")
    async def adapted() -> None:
        wrapper = Exception("adapted")
        wrapper.__cause__ = error
        raise sa_exc.DBAPIError("SELECT 1", (), wrapper)

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            for path in ("/db", "/adapted"):
                response = await client.get(path)
                if status == 503:
                    assert_problem(response, 503, "database-unavailable")
                    assert response.headers["retry-after"] == "1"
                elif status == "write-conflict":  # a 503 of its own kind
                    assert_problem(response, 503, "write-conflict")
                    assert response.headers["retry-after"] == "1"
                else:
                    assert_problem(response, 500, "internal-error")
