"""Rate limits at the HTTP edge: a per-client default on every API request, stricter groups
on chosen routes, and RateLimit-* headers naming the tightest limit that applied."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.errors import DomainError, send_problem
from taskwell.kv.ratelimit import Decision, RateLimiter

_STATE_KEY = "rate_limit"


def record(state: dict[str, object], decision: Decision) -> None:
    """Keep the decision with the least room left: that is the limit the client should heed."""
    current = state.get(_STATE_KEY)
    if not isinstance(current, Decision) or decision.remaining < current.remaining:
        state[_STATE_KEY] = decision


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, prefix: str = "/api/") -> None:
        self.app = app
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        # The limiter is opened with the app's other pools in its lifespan.
        limiter: RateLimiter = scope["app"].state.context.limiter
        try:
            record(state, await limiter.check("default", state.get("client_ip", "")))
        except DomainError as exc:
            await send_problem(
                scope,
                send,
                status=exc.status,
                slug=exc.slug,
                title=exc.title,
                detail=exc.detail,
                headers=exc.headers,
            )
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                decision = state.get(_STATE_KEY)
                if isinstance(decision, Decision):
                    headers = list(message.get("headers", ()))
                    # A 429 carries its own; otherwise add the tightest limit's.
                    if not any(name.lower() == b"ratelimit-limit" for name, _ in headers):
                        headers += [
                            (name.lower().encode(), value.encode())
                            for name, value in decision.headers().items()
                        ]
                        message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def limit(group: str) -> Any:
    """A route dependency: count the request against `group`, per client address."""

    async def check(request: Request) -> None:
        limiter: RateLimiter = request.app.state.context.limiter
        state = request.scope.setdefault("state", {})
        record(state, await limiter.check(group, state.get("client_ip", "")))

    return Depends(check)
