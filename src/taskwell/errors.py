"""One error format: RFC 9457 problem+json, produced for every error in one place."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, ClassVar

import orjson
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from taskwell.http.security_headers import security_headers
from taskwell.observability.sentry import report_exception

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:taskwell:problem:"
log = logging.getLogger("taskwell.errors")


class DomainError(Exception):
    """A failure the client can act on. Subclasses name their problem type and status."""

    slug: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"
    status: ClassVar[int] = 400

    def __init__(
        self,
        detail: str | None = None,
        *,
        extra: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})


class BadRequest(DomainError):
    slug, title, status = "bad-request", "Bad request", 400


class MalformedBody(DomainError):
    slug, title, status = "malformed-body", "The request body is not valid JSON", 400


class InvalidCursor(DomainError):
    slug, title, status = "invalid-cursor", "The pagination cursor is not valid", 400


class Unauthorized(DomainError):
    slug, title, status = "unauthorized", "Authentication required", 401

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="taskwell"'})


class Forbidden(DomainError):
    slug, title, status = "forbidden", "Forbidden", 403


class NotFound(DomainError):
    slug, title, status = "not-found", "Not found", 404


class Conflict(DomainError):
    slug, title, status = "conflict", "Conflict", 409


class PreconditionFailed(DomainError):
    slug, title, status = "precondition-failed", "Precondition failed", 412


class VersionMismatch(PreconditionFailed):
    """If-Match named a version that is no longer current: one type for every resource that
    has versions (tasks, projects, sections, labels, comments)."""

    slug, title, status = "version-mismatch", "The resource has changed since you read it", 412


class PayloadTooLarge(DomainError):
    slug, title, status = "payload-too-large", "Request body too large", 413


class Unprocessable(DomainError):
    slug, title, status = "unprocessable", "The request cannot be processed", 422


class ValidationFailed(DomainError):
    """A field is invalid in a way only the service can tell; same shape as schema errors."""

    slug, title, status = "validation-error", "The request is not valid", 422

    def __init__(self, field: str, message: str, *, location: str = "body", code: str) -> None:
        super().__init__(
            message,
            extra={"errors": [{"field": field, "in": location, "message": message, "code": code}]},
        )


_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal-error", "Internal server error"),
    503: ("unavailable", "Service unavailable"),
}


# The shape every handler below produces, for the OpenAPI document: clients and the
# schemathesis suite check answers against it. Extra members (`errors`, `current_version`,
# `checks`) vary by problem type, so the object stays open.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Problem",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        "type": {"type": "string", "description": TYPE_PREFIX + "<slug>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "in", "message", "code"],
                "properties": {
                    "field": {"type": "string"},
                    "in": {"type": "string"},
                    "message": {"type": "string"},
                    "code": {"type": "string"},
                },
            },
        },
    },
    "additionalProperties": True,
}

_PROBLEM_DESCRIPTIONS = {
    400: "Malformed request: the body is not JSON, or a header or cursor is not valid",
    401: "Missing, invalid or expired credentials",
    403: "The credentials may not do this (API key scope, or a signed-in session needed)",
    404: "Not found (or not yours)",
    409: "Conflicts with the current state",
    410: "Gone: what it refers to is no longer kept",
    412: "If-Match names a version that is no longer current",
    413: "The request body is too large",
    422: "A field is not valid; `errors` names each one",
    429: "Too many requests; retry after Retry-After seconds",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` entries for the problem+json answers a route can give."""
    return {
        status: {
            "description": _PROBLEM_DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for status in sorted(statuses)
    }


def request_id_of(request: Request) -> str | None:
    return getattr(request.state, "request_id", None)


def problem_body(
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str,
    request_id: str | None,
    extra: Mapping[str, Any] | None = None,
) -> bytes:
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": instance,
    }
    if request_id:
        body["request_id"] = request_id
    if extra:
        body.update(extra)
    return orjson.dumps(body)


async def send_problem(
    scope: Scope,
    send: Send,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Answer with a problem straight from ASGI middleware, before any route runs."""
    state = scope.setdefault("state", {})
    state["problem_type"] = slug
    payload = problem_body(
        status=status,
        slug=slug,
        title=title,
        detail=detail,
        instance=scope.get("path", ""),
        request_id=state.get("request_id"),
    )
    raw_headers = [
        (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
        (b"content-length", str(len(payload)).encode()),
    ]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


def problem_response(
    request: Request,
    *,
    status: int,
    slug: str,
    title: str,
    detail: str,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    request_id = request_id_of(request)
    request.state.problem_type = slug  # for the access log and the error metrics
    body = problem_body(
        status=status,
        slug=slug,
        title=title,
        detail=detail,
        instance=request.url.path,
        request_id=request_id,
        extra=extra,
    )
    response = Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)
    if request_id:
        response.headers["X-Request-ID"] = request_id
    return response


def _field_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """One entry per field; the input values are left out so no secret is echoed back."""
    out = []
    for err in errors:
        loc = [str(part) for part in err.get("loc", ())]
        # The first element says where the field came from (body, query, path, header).
        out.append(
            {
                "field": ".".join(loc[1:]) or (loc[0] if loc else ""),
                "in": loc[0] if loc else "body",
                "message": str(err.get("msg", "invalid value")),
                "code": str(err.get("type", "invalid")),
            }
        )
    return out


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_response(
        request,
        status=exc.status,
        slug=exc.slug,
        title=exc.title,
        detail=exc.detail,
        extra=exc.extra,
        headers=exc.headers,
    )


async def _on_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return problem_response(
            request,
            status=400,
            slug=MalformedBody.slug,
            title=MalformedBody.title,
            detail="The body could not be parsed as JSON; send a JSON object.",
        )
    return problem_response(
        request,
        status=422,
        slug="validation-error",
        title="The request is not valid",
        detail="One or more fields are invalid; see `errors`.",
        extra={"errors": _field_errors(errors)},
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug, title = _HTTP_SLUGS.get(exc.status_code, ("http-error", "HTTP error"))
    detail = exc.detail if isinstance(exc.detail, str) else title
    if exc.status_code == 404 and detail == "Not Found":
        detail = "No resource lives at this address."
    if exc.status_code == 405:
        detail = f"{request.method} is not allowed here."
    return problem_response(
        request,
        status=exc.status_code,
        slug=slug,
        title=title,
        detail=detail,
        headers=exc.headers,
    )


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    # Internals go to the log only; the client gets the request id to quote.
    request_id = request_id_of(request)
    user_id = getattr(request.state, "user_id", None)
    log.error(
        "unhandled error",
        exc_info=exc,
        extra={"request_id": request_id, "path": request.url.path},
    )
    report_exception(exc, request_id=request_id, user_id=str(user_id) if user_id else None)
    # Sent by Starlette's outermost error middleware, past ours: add their headers here.
    settings = getattr(request.app.state, "settings", None)
    return problem_response(
        request,
        status=500,
        slug="internal-error",
        title="Internal server error",
        detail="Something went wrong on our side; quote the request id when reporting it.",
        headers=security_headers(settings) if settings is not None else None,
    )


# SQLSTATEs that say "the database is not there just now", not "this request is wrong": class 08
# (connection exceptions, also what PgBouncer sends when it cannot reach the server) and the
# server shutting down, crashed, or still starting.
_UNAVAILABLE_SQLSTATES = ("08", "57P01", "57P02", "57P03")
# The same from drivers that carry no SQLSTATE: a connection that died under the request.
_UNAVAILABLE_TEXT = (
    "database is locked",  # SQLite's busy timeout ran out
    "shutting down",
    "connection was closed",
    "connection is closed",
    "server conn crashed",
)


# SQLSTATEs that say "another transaction got in the way": a deadlock PostgreSQL broke by
# ending this transaction, or a serialization failure. Nothing was written; the same request
# again normally goes through.
_CONFLICT_SQLSTATES = ("40P01", "40001")


def _driver_errors(exc: sa_exc.DBAPIError) -> list[BaseException]:
    """The driver's own exception: SQLAlchemy's adapter keeps it as the cause."""
    return [e for e in (exc.orig, exc.orig.__cause__ if exc.orig is not None else None) if e]


def _sqlstate(error: BaseException) -> str | None:
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    return sqlstate if isinstance(sqlstate, str) else None


def _is_conflict(exc: Exception) -> bool:
    return isinstance(exc, sa_exc.DBAPIError) and any(
        _sqlstate(error) in _CONFLICT_SQLSTATES for error in _driver_errors(exc)
    )


def _is_unavailable(exc: Exception) -> bool:
    if isinstance(exc, ConnectionError | sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        for error in _driver_errors(exc):
            if isinstance(error, ConnectionError | OSError):
                return True
            sqlstate = _sqlstate(error)
            if sqlstate is not None and sqlstate.startswith(_UNAVAILABLE_SQLSTATES):
                return True
            text = str(error).lower()
            if any(marker in text for marker in _UNAVAILABLE_TEXT):
                return True
    return False


def is_transient_database_error(exc: BaseException) -> bool:
    """A database error that answers 503 (unreachable, locked, or a conflict with another
    transaction): nothing is wrong with the request, and trying again later may succeed."""
    return isinstance(exc, Exception) and (_is_conflict(exc) or _is_unavailable(exc))


async def _on_database_error(request: Request, exc: Exception) -> Response:
    if _is_conflict(exc):
        log.warning(
            "transaction conflict",
            extra={"request_id": request_id_of(request), "error": type(exc).__name__},
        )
        return problem_response(
            request,
            status=503,
            slug="write-conflict",
            title="The change met another one",
            detail="Another change to the same data ran at the same moment and nothing was "
            "saved; retry shortly.",
            headers={"Retry-After": "1"},
        )
    if not _is_unavailable(exc):
        return await _on_unexpected(request, exc)
    log.warning(
        "database unavailable",
        extra={"request_id": request_id_of(request), "error": type(exc).__name__},
    )
    return problem_response(
        request,
        status=503,
        slug="database-unavailable",
        title="The database is unavailable",
        detail="The database could not be reached just now; retry shortly.",
        headers={"Retry-After": "1"},
    )


Handler = Callable[[Request, Exception], Awaitable[Response]]
# Expected errors and their answers; anything else is a 500 (_on_unexpected).
_HANDLERS: dict[type[Exception], Handler] = {
    DomainError: _on_domain_error,
    sa_exc.DBAPIError: _on_database_error,
    sa_exc.TimeoutError: _on_database_error,
    ConnectionError: _on_database_error,
    RequestValidationError: _on_validation_error,
    StarletteHTTPException: _on_http_exception,
}


async def handled_response(request: Request, exc: Exception) -> Response | None:
    """The answer to an expected error, as the installed handlers give it; None otherwise.

    For code that runs outside FastAPI's exception middleware (http/hot_routes.py)."""
    for kind in type(exc).__mro__:
        handler = _HANDLERS.get(kind)
        if handler is not None:
            return await handler(request, exc)
    return None


def install_error_handlers(app: FastAPI) -> None:
    for kind, handler in _HANDLERS.items():
        app.add_exception_handler(kind, handler)
    app.add_exception_handler(Exception, _on_unexpected)
