"""The hot reads are answered by HotRoutes itself; everything else reaches FastAPI's router."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute, APIRouter

from taskwell.errors import NotFound, install_error_handlers
from taskwell.http.hot_routes import HotRoutes
from tests.conftest import Account, assert_problem

TASK = "3f2b8c1e-0d4a-4e6b-9a7c-2b1d5e8f9a10"


def _app() -> tuple[FastAPI, list[str]]:
    """An app whose hot routes answer "hot" and whose router answers "router"."""
    app = FastAPI()
    install_error_handlers(app)
    served: list[str] = []

    @app.get("/items")
    async def items(request: Request) -> Response:
        served.append("hot")
        return Response(b"hot")

    @app.get("/items/{item_id}")
    async def item(item_id: uuid.UUID, request: Request) -> Response:
        served.append("hot")
        if item_id.int == 0:
            raise NotFound("none")
        if item_id.int == 1:
            raise RuntimeError("boom")
        return Response(str(item_id).encode())

    @app.post("/items")
    async def add(request: Request) -> Response:
        served.append("router")
        return Response(b"router", status_code=201)

    hot = [r for r in app.routes if isinstance(r, APIRoute) and r.methods == {"GET"}]
    app.add_middleware(HotRoutes, routes=hot)
    return app, served


@pytest.fixture
def router_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths FastAPI's router was called for (a special method is looked up on the class)."""
    calls: list[str] = []
    original = APIRouter.__call__

    async def counting(self: APIRouter, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            calls.append(scope["path"])
        await original(self, scope, receive, send)

    monkeypatch.setattr(APIRouter, "__call__", counting)
    return calls


@pytest.fixture
def hot_app() -> tuple[FastAPI, list[str]]:
    return _app()


async def _get(app: FastAPI, method: str, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(method, path)


async def test_hot_routes_are_answered_without_the_router(
    hot_app: tuple[FastAPI, list[str]], router_calls: list[str]
) -> None:
    app, served = hot_app
    assert (await _get(app, "GET", "/items")).text == "hot"
    assert (await _get(app, "GET", f"/items/{TASK}")).text == TASK
    assert served == ["hot", "hot"]
    assert router_calls == []


async def test_everything_else_falls_through_to_fastapi(
    hot_app: tuple[FastAPI, list[str]], router_calls: list[str]
) -> None:
    app, served = hot_app
    assert (await _get(app, "POST", "/items")).status_code == 201
    # Not the canonical UUID form: FastAPI's own validation answers.
    malformed = await _get(app, "GET", "/items/not-a-uuid")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["in"] == "path"
    assert (await _get(app, "GET", "/elsewhere")).status_code == 404
    assert served == ["router"]
    assert router_calls == ["/items", "/items/not-a-uuid", "/elsewhere"]


async def test_hot_route_errors_use_the_installed_handlers(
    hot_app: tuple[FastAPI, list[str]],
) -> None:
    app, _ = hot_app
    missing = await _get(app, "GET", f"/items/{uuid.UUID(int=0)}")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    crashed = await _get(app, "GET", f"/items/{uuid.UUID(int=1)}")
    assert crashed.status_code == 500
    assert crashed.json()["type"] == "urn:taskwell:problem:internal-error"


def test_a_hot_route_must_be_a_get_with_supported_parameters() -> None:
    app = FastAPI()

    @app.get("/n/{n}")
    async def numbered(n: int, request: Request) -> Response:
        return Response(b"")

    route = next(r for r in app.routes if isinstance(r, APIRoute))
    with pytest.raises(ValueError, match=r"uuid\.UUID or str"):
        HotRoutes(app.router, routes=[route])


async def test_the_task_reads_are_hot_in_the_real_app(
    client: httpx.AsyncClient, alice: Account, router_calls: list[str]
) -> None:
    created = await client.post("/api/v1/tasks", json={"title": "a"}, headers=alice.headers)
    task_id = created.json()["id"]
    router_calls.clear()
    listed = await client.get("/api/v1/tasks", headers=alice.headers)
    one = await client.get(f"/api/v1/tasks/{task_id}", headers=alice.headers)
    missing = await client.get(f"/api/v1/tasks/{uuid.uuid4()}", headers=alice.headers)
    bad = await client.get("/api/v1/tasks?limit=0", headers=alice.headers)
    assert listed.status_code == 200
    assert one.status_code == 200
    assert one.headers["etag"] == '"v1"'
    assert_problem(missing, 404, "task-not-found")
    assert_problem(bad, 422, "validation-error")
    assert router_calls == []
