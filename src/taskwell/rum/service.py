"""What a report does: vitals become histogram observations; an error is counted, logged
(bounded, scrubbed, on one line) and sent to Sentry when it is configured."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from taskwell.observability.logging import scrub
from taskwell.observability.metrics import FRONTEND_ERRORS, WEB_VITAL, Children
from taskwell.rum.schemas import ErrorReportIn, Vital
from taskwell.rum.stack import Frame, error_type, parse_stack

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
    message = _loggable(report.message)
    log.warning(
        "frontend error",
        extra={
            "route": route,
            "frontend_message": message,
            "frontend_source": _loggable(report.source),
            "frontend_line": report.line,
            "frontend_column": report.column,
            "frontend_stack": _loggable(report.stack),
            "request_id": request_id,
        },
    )
    send_to_sentry(report, route=route, message=message, request_id=request_id)


def send_to_sentry(
    report: ErrorReportIn, *, route: str, message: str, request_id: str | None
) -> None:
    """One Sentry event with the browser's own stack frames (not this server's), when Sentry
    is configured. The client's before_send scrubs it like every other event."""
    import sentry_sdk

    if not sentry_sdk.get_client().is_active():
        return
    frames = parse_stack(report.stack)
    if not frames and report.source:
        source = _loggable(report.source)
        frames = [Frame(source, "?", report.line, report.column, source)]
    kind, value = error_type(message)
    event: dict[str, Any] = {
        "level": "error",
        "platform": "javascript",
        "logger": log.name,
        "exception": {
            "values": [
                {
                    "type": kind,
                    "value": value,
                    "mechanism": {"type": "onerror", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "filename": _loggable(frame.filename),
                                "abs_path": _loggable(frame.abs_path),
                                "function": _loggable(frame.function),
                                "lineno": frame.lineno,
                                "colno": frame.colno,
                                "in_app": True,
                            }
                            for frame in frames
                        ]
                    },
                }
            ]
        },
        "tags": {"route": route, "source": "browser"},
    }
    if request_id:
        event["tags"]["request_id"] = request_id
    sentry_sdk.capture_event(event)  # type: ignore[arg-type]  # Event is a TypedDict of this
