"""X-Request-ID: keep the client's when well-formed, otherwise make one; echo it back."""

from __future__ import annotations

import itertools
import os
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:\-]{8,128}$")


class RequestIds:
    """32 hex characters, unique without a system call per request: a random 64-bit prefix
    per process (renewed in a forked child) and a counter. They identify, they are not secrets
    (uuid4 read /dev/urandom on every request, measured at ~4% of the task list's CPU)."""

    def __init__(self) -> None:
        self._renew()
        os.register_at_fork(after_in_child=self._renew)

    def _renew(self) -> None:
        self._prefix = secrets.token_hex(8)
        self._counter = itertools.count(secrets.randbelow(1 << 32))

    def new(self) -> str:
        return f"{self._prefix}{next(self._counter) & 0xFFFFFFFFFFFFFFFF:016x}"


_IDS = RequestIds()


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                candidate = value.decode("latin-1")
                if _WELL_FORMED.match(candidate):
                    request_id = candidate
                break
        if not request_id:
            request_id = _IDS.new()
        scope.setdefault("state", {})["request_id"] = request_id
        id_header = (b"x-request-id", request_id.encode("latin-1"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = []
                cache_control = False
                for name, value in message.get("headers", ()):
                    lowered = name.lower()
                    if lowered == b"x-request-id":
                        continue  # set once, here (a problem response carries it too)
                    cache_control = cache_control or lowered == b"cache-control"
                    headers.append((name, value))
                headers.append(id_header)
                # Responses for one account must not be kept by shared caches (ASVS 14.3.2).
                if not cache_control:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_id)
