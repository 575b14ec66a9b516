"""One observation per request: an access-log line and the HTTP metrics, timed once."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.observability.metrics import HTTP_DURATION, HTTP_ERRORS, HTTP_IN_FLIGHT

log = logging.getLogger("taskwell.access")
UNMATCHED = "<unmatched>"
INTERNAL_ERROR = "internal-error"  # the problem type errors.py answers unhandled errors with


def route_template(scope: Scope) -> str:
    """The route's path template (/api/v1/tasks/{task_id}): bounded label values, no ids."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class ObserveRequests:
    def __init__(self, app: ASGIApp, *, log_requests: bool, record_metrics: bool) -> None:
        self.app = app
        self.log_requests = log_requests
        self.record_metrics = record_metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not (self.log_requests or self.record_metrics):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        sent = 0
        responded = False

        async def observe_send(message: Message) -> None:
            nonlocal status, sent, responded
            if message["type"] == "http.response.start":
                status = message["status"]
                responded = True
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        if self.record_metrics:
            HTTP_IN_FLIGHT.inc()
        try:
            await self.app(scope, receive, observe_send)
        except Exception:
            if not responded:
                # Starlette's outermost error handler answers past this middleware, so its
                # problem type is not in the state yet: name it here for the log and metrics.
                scope.setdefault("state", {})["problem_type"] = INTERNAL_ERROR
            raise
        finally:
            duration = time.perf_counter() - started
            if self.record_metrics:
                HTTP_IN_FLIGHT.dec()
            self._finish(scope, status, duration, sent)

    def _finish(self, scope: Scope, status: int, duration: float, sent: int) -> None:
        route = route_template(scope)
        state = scope.get("state", {})
        problem = state.get("problem_type", "") if status >= 400 else ""
        if self.record_metrics:
            HTTP_DURATION.labels(scope["method"], route, str(status)).observe(duration)
            if status >= 400:
                HTTP_ERRORS.labels(route, str(status), problem or "none").inc()
        if self.log_requests:
            user_id = state.get("user_id")
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "route": route,
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "request_id": state.get("request_id"),
                    "user_id": str(user_id) if user_id else None,
                    "client_ip": state.get("client_ip"),
                    "bytes": sent,
                    "problem_type": problem or None,
                },
            )
