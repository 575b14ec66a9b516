"""The outermost layer: one pass completes every response's headers and observes the request."""

from __future__ import annotations

from typing import Any

from taskwell.http.edge import EdgeMiddleware
from taskwell.http.rate_limit import record
from taskwell.kv.ratelimit import Decision
from taskwell.settings import Settings


def _app(headers: list[tuple[bytes, bytes]], seen: list[dict[str, Any]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(dict(scope["state"]))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"{}"})

    return app


async def _call(
    middleware: EdgeMiddleware, path: str = "/api/v1/x", request_id: bytes | None = None
) -> list[tuple[bytes, bytes]]:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    headers = [(b"x-request-id", request_id)] if request_id else []
    scope = {"type": "http", "method": "GET", "path": path, "headers": headers, "state": {}}
    await middleware(scope, receive, send)
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    return list(sent[0]["headers"])


def _edge(settings: Settings, app: Any) -> EdgeMiddleware:
    return EdgeMiddleware(app, settings=settings, log_requests=False, record_metrics=False)


async def test_every_response_gets_the_security_headers_id_and_no_store(
    settings: Settings,
) -> None:
    seen: list[dict[str, Any]] = []
    own = [(b"content-type", b"application/json"), (b"etag", b'"v1"')]
    headers = await _call(_edge(settings, _app(own, seen)))
    names = [name for name, _ in headers]
    assert headers[:2] == own  # the response's own headers come first, untouched
    assert b"content-security-policy" in names
    assert b"x-frame-options" in names
    assert (b"x-request-id", seen[0]["request_id"].encode()) in headers
    assert (b"cache-control", b"no-store") in headers
    assert len(names) == len(set(names))


async def test_a_response_keeps_its_own_cache_control_and_security_headers(
    settings: Settings,
) -> None:
    own = [(b"Cache-Control", b"public, max-age=60"), (b"X-Frame-Options", b"SAMEORIGIN")]
    headers = await _call(_edge(settings, _app(own, [])))
    lowered = [(name.lower(), value) for name, value in headers]
    assert [v for n, v in lowered if n == b"cache-control"] == [b"public, max-age=60"]
    assert [v for n, v in lowered if n == b"x-frame-options"] == [b"SAMEORIGIN"]


async def test_the_request_id_is_set_once_by_the_edge(settings: Settings) -> None:
    seen: list[dict[str, Any]] = []
    own = [(b"X-Request-ID", b"made-up-by-the-app")]
    headers = await _call(_edge(settings, _app(own, seen)), request_id=b"client-chosen-id-1")
    assert seen[0]["request_id"] == "client-chosen-id-1"
    assert [v for n, v in headers if n.lower() == b"x-request-id"] == [b"client-chosen-id-1"]


async def test_a_malformed_client_request_id_is_replaced(settings: Settings) -> None:
    seen: list[dict[str, Any]] = []
    headers = await _call(_edge(settings, _app([], seen)), request_id=b"bad id\n")
    assert len(seen[0]["request_id"]) == 32
    assert (b"x-request-id", seen[0]["request_id"].encode()) in headers


async def test_the_api_docs_get_their_own_policy(settings: Settings) -> None:
    api = dict(await _call(_edge(settings, _app([], [])), path="/api/v1/tasks"))
    docs = dict(await _call(_edge(settings, _app([], [])), path="/api/docs"))
    assert b"cdn.jsdelivr.net" in docs[b"content-security-policy"]
    assert b"cdn.jsdelivr.net" not in api[b"content-security-policy"]


def _counted(app: Any, remaining: int) -> Any:
    """An app that the rate limit counted (as RateLimitMiddleware does) before answering."""

    async def counted(scope: Any, receive: Any, send: Any) -> None:
        record(scope["state"], Decision("default", True, 100, remaining, 30))
        await app(scope, receive, send)

    return counted


async def test_a_counted_request_gets_the_rate_limit_headers(settings: Settings) -> None:
    own = [(b"content-type", b"application/json")]
    headers = await _call(_edge(settings, _counted(_app(own, []), remaining=7)))
    assert headers[:4] == [
        *own,
        (b"ratelimit-limit", b"100"),
        (b"ratelimit-remaining", b"7"),
        (b"ratelimit-reset", b"30"),
    ]


async def test_a_response_with_its_own_rate_limit_headers_keeps_them(
    settings: Settings,
) -> None:
    own = [(b"RateLimit-Limit", b"5"), (b"RateLimit-Remaining", b"0"), (b"Retry-After", b"9")]
    headers = await _call(_edge(settings, _counted(_app(own, []), remaining=7)))
    assert [v for n, v in headers if n.lower() == b"ratelimit-remaining"] == [b"0"]
    assert [v for n, v in headers if n.lower() == b"ratelimit-limit"] == [b"5"]


async def test_an_uncounted_request_gets_no_rate_limit_headers(settings: Settings) -> None:
    headers = await _call(_edge(settings, _app([], [])))
    assert not [n for n, _ in headers if n.startswith(b"ratelimit")]
