"""Refuse request bodies over the configured size with 413, however they are sent.

One limit for every request, except the routes given their own (an avatar upload may be larger
than any JSON body; a beacon must be much smaller): those are named by exact method and path,
so one dict look-up per request decides, and no other path can borrow a larger allowance.
"""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import HTTPException
from starlette.types import Message, Receive, Scope, Send

from taskwell.errors import PayloadTooLarge, send_problem


class BodyTooLarge(HTTPException):
    """Raised from inside a body read; the error handlers (or a reading middleware) answer 413."""


class BodyLimits:
    """The cap for a request, the refusal of a declared length over it, and a receive that
    raises BodyTooLarge once what arrives exceeds it (http.request_limits applies them)."""

    def __init__(
        self, max_bytes: int, route_limits: Mapping[tuple[str, str], int] | None = None
    ) -> None:
        """route_limits: {(method, path): bytes} for the routes whose cap differs."""
        self.max_bytes = max_bytes
        self.route_limits = dict(route_limits or {})

    def cap(self, scope: Scope) -> int:
        if self.route_limits:
            return self.route_limits.get((scope["method"], scope["path"]), self.max_bytes)
        return self.max_bytes

    @staticmethod
    def declared_too_large(scope: Scope, max_bytes: int) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return not value.isdigit() or int(value) > max_bytes
        return False

    @staticmethod
    def limited(receive: Receive, max_bytes: int) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    # Raised inside the app's body read, so the error handlers answer 413.
                    raise BodyTooLarge(413, _detail(max_bytes))
            return message

        return limited_receive

    @staticmethod
    async def refuse(scope: Scope, send: Send, max_bytes: int) -> None:
        await send_problem(
            scope,
            send,
            status=413,
            slug=PayloadTooLarge.slug,
            title=PayloadTooLarge.title,
            detail=_detail(max_bytes),
            headers={"Connection": "close"},
        )


def _detail(max_bytes: int) -> str:
    return f"The request body is larger than the limit of {max_bytes} bytes."
