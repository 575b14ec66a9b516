"""Caps on what a request may look like before any route sees it: body size (body_limit), URL
length, header size, and for JSON bodies nesting depth and array length (ASVS 2.4.1 / 15.2.2).

One layer applies them all, in that order: the body cap and the shape checks were two layers
that every request, the hot reads included, went through (and whose coroutine frames each
suspension of the request, a database read say, passes twice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.errors import PayloadTooLarge, send_problem
from taskwell.http.body_limit import BodyLimits, BodyTooLarge


def _too_complex(value: Any, max_depth: int, max_items: int) -> str | None:
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            if depth > max_depth:
                return f"JSON nesting deeper than {max_depth} levels"
            if len(node) > max_items:
                return f"a JSON array or object with more than {max_items} members"
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, depth + 1) for child in children)
    return None


class RequestLimitsMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        body: BodyLimits,
        max_url_bytes: int,
        max_header_bytes: int,
        max_json_depth: int,
        max_json_items: int,
        route_json_items: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        """route_json_items: {(method, path): members} for the routes whose JSON bodies may
        hold longer arrays (an import document's tasks), named exactly as body limits are."""
        self.app = app
        self.body = body
        self.max_url = max_url_bytes
        self.max_headers = max_header_bytes
        self.max_depth = max_json_depth
        self.max_items = max_json_items
        self.route_items = dict(route_json_items or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.body.cap(scope)
        if self.body.declared_too_large(scope, max_bytes):
            await self.body.refuse(scope, send, max_bytes)
            return
        receive = self.body.limited(receive, max_bytes)
        url_size = len(scope.get("raw_path") or scope["path"].encode()) + len(scope["query_string"])
        if url_size > self.max_url:
            await send_problem(
                scope,
                send,
                status=414,
                slug="uri-too-long",
                title="URI too long",
                detail=f"The request target is longer than {self.max_url} bytes.",
            )
            return
        header_size = sum(len(name) + len(value) for name, value in scope["headers"])
        if header_size > self.max_headers:
            await send_problem(
                scope,
                send,
                status=431,
                slug="headers-too-large",
                title="Request headers too large",
                detail=f"The request headers are larger than {self.max_headers} bytes.",
            )
            return
        if scope["method"] in {"POST", "PUT", "PATCH"} and _is_json(scope):
            await self._check_json(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _check_json(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Buffer the body (capped: receive raises BodyTooLarge past the limit), check its
        # shape with a C parser, then hand the same bytes to the app.
        chunks: list[bytes] = []
        try:
            while True:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    break
        except BodyTooLarge as exc:
            await send_problem(
                scope,
                send,
                status=413,
                slug=PayloadTooLarge.slug,
                title=PayloadTooLarge.title,
                detail=str(exc.detail),
            )
            return
        body = b"".join(chunks)
        max_items = self.max_items
        if self.route_items:
            max_items = self.route_items.get((scope["method"], scope["path"]), max_items)
        reason = None
        try:
            reason = _too_complex(orjson.loads(body), self.max_depth, max_items) if body else None
        except orjson.JSONDecodeError as exc:
            # orjson stops at 1024 levels by itself ("depth limit exceeded").
            if "depth" in str(exc).lower() or "recursion" in str(exc).lower():
                reason = f"JSON nesting deeper than {self.max_depth} levels"
            # Otherwise malformed JSON: the route answers 400 malformed-body as usual.
        if reason is not None:
            await send_problem(
                scope,
                send,
                status=422,
                slug="json-too-complex",
                title="The JSON body is too complex",
                detail=f"The body has {reason}.",
            )
            return
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media: bytes = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return False
