"""What a report does: vitals become histogram observations; an error is counted, logged
(bounded, scrubbed, on one line) and sent to Sentry when it is configured."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from taskwell.observability.logging import scrub
from taskwell.observability.metrics import FRONTEND_ERRORS, WEB_VITAL, Children
from taskwell.observability.sentry import report_exception
from taskwell.rum.schemas import ErrorReportIn, Vital

# The browser app's route templates (frontend/src/rum/route.ts): the only route label values
# besides OTHER, so a forged report cannot add series.
CLIENT_ROUTES = frozenset(("/login", "/register", "/tasks", "/tasks/:id", "/settings"))
OTHER = "other"
_TASK_PATH = re.compile(r"/tasks/[^/]+")
# C0 and C1 controls and the Unicode line separators: escaped, so that a report cannot
# start a forged line in a text log (ASVS 16.4.1).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")

log = logging.getLogger("taskwell.rum")
_VITALS = Children(WEB_VITAL, limit=100)
_ERRORS = Children(FRONTEND_ERRORS, limit=20)


class FrontendError(Exception):
    """An uncaught error in a user's browser, as reported to /rum/errors (for Sentry)."""


def route_label(route: str) -> str:
    """The route template a report names, or OTHER. A concrete task path counts as its
    template, so an id never becomes a label value."""
    path = route.split("?", 1)[0].split("#", 1)[0]
    if len(path) > 1:
        path = path.rstrip("/")
    if path in CLIENT_ROUTES:
        return path
    if _TASK_PATH.fullmatch(path):
        return "/tasks/:id"
    return OTHER


def record_vitals(vitals: Sequence[Vital]) -> None:
    for vital in vitals:
        _VITALS(vital.name, route_label(vital.route)).observe(vital.value)


def _loggable(text: str) -> str:
    """Scrubbed of anything token-like, with control characters escaped."""
    cleaned: str = scrub(text)
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cleaned)


def record_error(report: ErrorReportIn, *, request_id: str | None) -> None:
    route = route_label(report.route)
    _ERRORS(route).inc()
    message, source = _loggable(report.message), _loggable(report.source)
    log.warning(
        "frontend error",
        extra={
            "route": route,
            "frontend_message": message,
            "frontend_source": source,
            "frontend_line": report.line,
            "frontend_column": report.column,
            "frontend_stack": _loggable(report.stack),
            "request_id": request_id,
        },
    )
    where = f" at {source}:{report.line}:{report.column}" if source else ""
    report_exception(
        FrontendError(f"{message}{where} (route {route})"), request_id=request_id, user_id=None
    )
