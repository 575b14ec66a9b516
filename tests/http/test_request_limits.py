"""One layer applies the body cap and the shape checks, in that order."""

from __future__ import annotations

from typing import Any

from taskwell.http.body_limit import BodyLimits
from taskwell.http.request_shape import RequestLimitsMiddleware


def _limits(reached: list[bytes]) -> RequestLimitsMiddleware:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        reached.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    return RequestLimitsMiddleware(
        app,
        body=BodyLimits(10, {("PUT", "/big"): 100}),
        max_url_bytes=20,
        max_header_bytes=1000,
        max_json_depth=3,
        max_json_items=10,
        route_json_items={("PUT", "/big"): 20},
    )


async def _status(
    middleware: RequestLimitsMiddleware,
    *,
    method: str = "POST",
    path: str = "/x",
    headers: list[tuple[bytes, bytes]] | None = None,
    chunks: tuple[bytes, ...] = (b"",),
) -> int:
    sent: list[dict[str, Any]] = []
    parts = list(chunks)

    async def receive() -> dict[str, Any]:
        body = parts.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers or [],
    }
    await middleware(scope, receive, send)
    status: int = sent[0]["status"]
    return status


async def test_a_declared_oversized_body_is_refused_before_the_url_is_looked_at() -> None:
    reached: list[bytes] = []
    status = await _status(
        _limits(reached), path="/" + "x" * 50, headers=[(b"content-length", b"11")]
    )
    assert status == 413
    assert reached == []


async def test_a_json_body_growing_past_the_cap_is_refused_while_it_is_checked() -> None:
    reached: list[bytes] = []
    json = [(b"content-type", b"application/json")]
    status = await _status(_limits(reached), headers=json, chunks=(b'{"a": ', b'"0123456789"}'))
    assert status == 413
    assert reached == []


async def test_a_route_with_its_own_cap_gets_it_and_the_checked_body_reaches_the_app() -> None:
    reached: list[bytes] = []
    body = b"x" * 50
    big = [(b"content-length", b"50")]
    status = await _status(_limits(reached), method="PUT", path="/big", headers=big, chunks=(body,))
    assert status == 204
    assert reached == [body]
    assert await _status(_limits([]), method="PUT", path="/other", headers=big) == 413


async def test_a_route_with_its_own_json_item_cap_takes_longer_arrays_up_to_it() -> None:
    reached: list[bytes] = []
    json = [(b"content-type", b"application/json")]
    body = b"[" + b",".join([b"1"] * 15) + b"]"
    status = await _status(
        _limits(reached), method="PUT", path="/big", headers=json, chunks=(body,)
    )
    assert status == 204
    assert reached == [body]
    longer = b"[" + b",".join([b"1"] * 21) + b"]"
    assert (
        await _status(_limits([]), method="PUT", path="/big", headers=json, chunks=(longer,)) == 422
    )
