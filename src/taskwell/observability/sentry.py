"""Error tracking with Sentry when TASKWELL_SENTRY_DSN is set; otherwise nothing happens.

Events carry the release, environment, request id and user id, and nothing else about the
person or the request: no email, no bodies, no cookies, no headers that could hold secrets,
no local variables (a frame's locals hold the request's headers and body).
"""

from __future__ import annotations

import logging
from typing import Any

from taskwell import __version__
from taskwell.observability.logging import scrub
from taskwell.settings import Settings

_enabled = False
_KEPT_HEADERS = {"user-agent", "x-request-id", "content-type", "accept"}


def init_sentry(settings: Settings) -> None:
    global _enabled
    if settings.sentry_dsn is None:
        return
    import sentry_sdk
    from sentry_sdk.integrations.logging import LoggingIntegration

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        release=f"taskwell@{__version__}",
        environment=settings.sentry_environment or settings.env.value,
        # No send_default_pii (deprecated; unset means off): no IP, cookies or user details
        # from the integrations. _scrub_event enforces the same whatever an SDK default says.
        include_local_variables=False,
        traces_sample_rate=settings.sentry_traces_sample_rate,
        max_request_body_size="never",
        # Log lines stay breadcrumbs: an unhandled error is reported once, by
        # report_exception, with the request id and user id it knows (a logged error would
        # arrive first without them and the real report would be dropped as a duplicate).
        integrations=[LoggingIntegration(level=logging.INFO, event_level=None)],
        before_send=_scrub_event,  # type: ignore[arg-type]  # Event is a TypedDict of this
    )
    _enabled = True


def _scrub_event(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any]:
    request = event.get("request")
    if isinstance(request, dict):
        headers = request.get("headers") or {}
        request["headers"] = {k: v for k, v in headers.items() if k.lower() in _KEPT_HEADERS}
        for field in ("cookies", "data", "query_string", "env"):
            request.pop(field, None)
    user = event.get("user")
    if isinstance(user, dict):
        event["user"] = {"id": user["id"]} if "id" in user else {}
    for container in ("exception", "threads"):
        for value in (event.get(container) or {}).get("values") or []:
            for frame in (value.get("stacktrace") or {}).get("frames") or []:
                frame.pop("vars", None)
            if isinstance(value.get("value"), str):
                value["value"] = scrub(value["value"])
    for key in ("breadcrumbs", "extra", "logentry", "message"):
        if key in event:
            event[key] = scrub(event[key])
    return event


def report_exception(exc: BaseException, *, request_id: str | None, user_id: str | None) -> None:
    if not _enabled:
        return
    import sentry_sdk

    with sentry_sdk.new_scope() as scope:
        if request_id:
            scope.set_tag("request_id", request_id)
        if user_id:
            scope.set_user({"id": user_id})
        sentry_sdk.capture_exception(exc)
