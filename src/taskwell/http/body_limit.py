"""Refuse request bodies over the configured size with 413, however they are sent."""

from __future__ import annotations

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.errors import PayloadTooLarge, send_problem


class BodyTooLarge(HTTPException):
    """Raised from inside a body read; the error handlers (or a reading middleware) answer 413."""


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await self._refuse(scope, send)
                    return
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    # Raised inside the app's body read, so the error handlers answer 413.
                    raise BodyTooLarge(413, self._detail())
            return message

        await self.app(scope, limited_receive, send)

    def _detail(self) -> str:
        return f"The request body is larger than the limit of {self.max_bytes} bytes."

    async def _refuse(self, scope: Scope, send: Send) -> None:
        await send_problem(
            scope,
            send,
            status=413,
            slug=PayloadTooLarge.slug,
            title=PayloadTooLarge.title,
            detail=self._detail(),
            headers={"Connection": "close"},
        )
