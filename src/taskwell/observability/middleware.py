"""One observation per request: an access-log line and the HTTP metrics, timed once (by the
outermost layer, http.edge)."""

from __future__ import annotations

from starlette.types import Scope

from taskwell.observability.logging import ACCESS_LOG
from taskwell.observability.metrics import (
    HTTP_DURATION_CHILDREN,
    HTTP_ERRORS_CHILDREN,
    HTTP_REQUESTS_IN_FLIGHT,
)

UNMATCHED = "<unmatched>"
# Methods as metric labels: a lenient HTTP parser accepts any token as a method, so anything
# else is counted as "other" (label values stay bounded).
_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))
INTERNAL_ERROR = "internal-error"  # the problem type errors.py answers unhandled errors with


def route_template(scope: Scope) -> str:
    """The route's path template (/api/v1/tasks/{task_id}): bounded label values, no ids."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


def mark_unanswered(scope: Scope) -> None:
    """The app raised before a response started. Starlette's outermost error handler answers
    past this layer, so its problem type is not in the state yet: name it for the log and
    metrics."""
    scope.setdefault("state", {})["problem_type"] = INTERNAL_ERROR


class RequestObserver:
    """Records one answered request: the access line and the HTTP metrics.

    Plain methods, so the middleware that sees the response go out observes requests with it
    (http.edge.EdgeMiddleware, the outermost layer, does so):

        observer.start()                      # before calling the app
        try:
            ...                               # call the app, note status and bytes sent
        except Exception:
            if not responded:
                mark_unanswered(scope)        # and report status 500
            raise
        finally:
            observer.finish(scope, status, duration_seconds, bytes_sent)

    finish() ends what start() began (the in-flight gauge): call each once per request. It
    reads scope["route"] and scope["state"]: problem_type, user_id, request_id, client_ip.
    """

    def __init__(self, *, log_requests: bool, record_metrics: bool) -> None:
        self.log_requests = log_requests
        self.record_metrics = record_metrics

    def start(self) -> None:
        if self.record_metrics:
            HTTP_REQUESTS_IN_FLIGHT.enter()

    def finish(self, scope: Scope, status: int, duration_seconds: float, bytes_sent: int) -> None:
        route = route_template(scope)
        problem = (scope.get("state") or {}).get("problem_type", "") if status >= 400 else ""
        if self.record_metrics:
            HTTP_REQUESTS_IN_FLIGHT.leave()
            status_label = str(status)
            method = scope["method"] if scope["method"] in _METHODS else "other"
            HTTP_DURATION_CHILDREN(method, route, status_label).observe(duration_seconds)
            if status >= 400:
                HTTP_ERRORS_CHILDREN(route, status_label, problem or "none").inc()
        if self.log_requests:
            ACCESS_LOG.request(
                scope,
                route=route,
                status=status,
                duration_seconds=duration_seconds,
                bytes_sent=bytes_sent,
                problem_type=problem or None,
            )
