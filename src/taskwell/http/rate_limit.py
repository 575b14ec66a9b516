"""Rate limits at the HTTP edge: a per-client default on every API request, stricter groups
on chosen routes, and RateLimit-* headers naming the tightest limit that applied."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Depends, Request
from starlette.types import ASGIApp, Receive, Scope, Send

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

        await self.app(scope, receive, send)


def response_headers(state: Mapping[str, object]) -> list[tuple[bytes, bytes]]:
    """The RateLimit-* headers of the tightest limit this request was counted against; none
    when it was not counted (not an API path, or refused by the default limit, whose 429
    carries its own). http.edge adds them with its one pass over the response's headers,
    unless the response set its own (a 429 does)."""
    decision = state.get(_STATE_KEY)
    if not isinstance(decision, Decision):
        return []
    return [(name.lower().encode(), value.encode()) for name, value in decision.headers().items()]


def limit(group: str) -> Any:
    """A route dependency: count the request against `group`, per client address."""

    async def check(request: Request) -> None:
        limiter: RateLimiter = request.app.state.context.limiter
        state = request.scope.setdefault("state", {})
        record(state, await limiter.check(group, state.get("client_ip", "")))

    return Depends(check)
