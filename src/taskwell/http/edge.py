"""The outermost layer: request id, security headers, default Cache-Control, the rate limit's
headers, and the request's observation.

These were four `send` wrappers (request id, security headers, the observer, the rate limit's
headers) in three layers plus the rate limit's, each rebuilding the response's header list.
Every request, the hot reads included, passed all of them; here the request pays for one
wrapper, one pass over the headers and one coroutine frame. What each part does is unchanged
and still defined in its own module: the ids in `request_id`, the header sets in
`security_headers`, the RateLimit-* headers in `rate_limit` (whose middleware still counts the
request, further in, once the client's address is known), the access line and metrics in
`observability.middleware.RequestObserver`.
"""

from __future__ import annotations

import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.http import API_V1
from taskwell.http.rate_limit import response_headers
from taskwell.http.request_id import request_id_of
from taskwell.http.security_headers import EncodedHeaders, encoded_security_headers
from taskwell.observability.middleware import RequestObserver, mark_unanswered
from taskwell.settings import Settings

_REQUEST_ID = b"x-request-id"
_CACHE_CONTROL = b"cache-control"
_RATE_LIMIT = b"ratelimit-limit"
# Responses for one account must not be kept by shared caches (ASVS 14.3.2).
_NO_STORE = (_CACHE_CONTROL, b"no-store")


def edge_headers(
    headers: EncodedHeaders,
    limits: EncodedHeaders,
    security: EncodedHeaders,
    id_header: tuple[bytes, bytes],
) -> list[tuple[bytes, bytes]]:
    """The response's headers, then the rate limit's (unless it set its own), each security
    header it does not set itself, the request id (set only here: a problem response carries
    it too), and `no-store` unless the response chose its own Cache-Control."""
    out: list[tuple[bytes, bytes]] = []
    present: set[bytes] = set()
    for name, value in headers:
        lowered = name.lower()
        if lowered == _REQUEST_ID:
            continue
        present.add(lowered)
        out.append((name, value))
    if limits and _RATE_LIMIT not in present:
        out.extend(limits)
    for header in security:
        if header[0] not in present:
            out.append(header)
    out.append(id_header)
    if _CACHE_CONTROL not in present:
        out.append(_NO_STORE)
    return out


# The event stream (src/taskwell/events) is timed to its start, not its end.
EVENTS_PATH = f"{API_V1}/events"


class EdgeMiddleware:
    """Outermost middleware: names the request, observes it, and completes every response's
    headers (errors and static files included)."""

    def __init__(
        self, app: ASGIApp, *, settings: Settings, log_requests: bool, record_metrics: bool
    ) -> None:
        self.app = app
        self._default = encoded_security_headers(settings)
        self._docs = encoded_security_headers(settings, "/api/docs")
        self._observer = (
            RequestObserver(log_requests=log_requests, record_metrics=record_metrics)
            if log_requests or record_metrics
            else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_of(scope["headers"])
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        id_header = (_REQUEST_ID, request_id.encode("latin-1"))
        security = self._docs if scope["path"].startswith("/api/docs") else self._default
        status = 500
        sent = 0
        responded = False
        streamed_at: float | None = None

        async def send_from_edge(message: Message) -> None:
            nonlocal status, sent, responded, streamed_at
            kind = message["type"]
            if kind == "http.response.start":
                status = message["status"]
                responded = True
                if scope["path"] == EVENTS_PATH:
                    streamed_at = time.perf_counter()
                message["headers"] = edge_headers(
                    message.get("headers", ()), response_headers(state), security, id_header
                )
            elif kind == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        observer = self._observer
        if observer is None:
            await self.app(scope, receive, send_from_edge)
            return
        started = time.perf_counter()
        observer.start()
        try:
            await self.app(scope, receive, send_from_edge)
        except Exception:
            if not responded:
                mark_unanswered(scope)
            raise
        finally:
            # An event stream is open for as long as the client stays: its latency is the
            # time to its start, or every stream would be the slowest request of the hour.
            ended = streamed_at if streamed_at is not None else time.perf_counter()
            observer.finish(scope, status, ended - started, sent)
