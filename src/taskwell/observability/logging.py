"""Structured logs: JSON lines in production, readable console output in development.

The app's own loggers and uvicorn's go through one structlog formatter, so every line has the
same shape. Secrets never reach a line: fields named like credentials are replaced, and values
that look like tokens are masked, wherever they appear. The per-request access line is the one
exception to the route through the formatter (see AccessLog): same line, rendered directly.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog
from starlette.types import Scope

from taskwell.settings import Environment, Settings

REDACTED = "[redacted]"
_SECRET_NAMES = re.compile(
    r"pass(word)?|secret|token|authorization|cookie|api[_-]?key|credential|signature|dsn",
    re.IGNORECASE,
)
# JWTs, our refresh tokens and API keys as they could appear inside free text.
_SECRET_VALUES = re.compile(
    r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=-]{16,}"
    r"|tw_[A-Za-z0-9]{8,}_[A-Za-z0-9_-]{16,}"
)
_HANDLER_MARK = "_taskwell_handler"
ACCESS_LOGGER = "taskwell.access"


def scrub(value: Any) -> Any:
    """value with credential-named fields replaced and token-like strings masked, at any depth."""
    if isinstance(value, str):
        return _SECRET_VALUES.sub(REDACTED, value)
    if isinstance(value, dict):
        return {k: REDACTED if _SECRET_NAMES.search(str(k)) else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    event_dict.pop("color_message", None)  # uvicorn's ANSI-coloured copy of the message
    event_dict.pop("message", None)  # the stdlib record's copy of "event"
    for key in list(event_dict):
        if key != "event" and _SECRET_NAMES.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = scrub(event_dict[key])
    return event_dict


def redact_rendered_traceback(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Tracebacks become text only after redact_secrets ran; an exception's message can
    quote a token (a driver error echoing a parameter, say), so mask those too."""
    for key in ("exception", "stack"):
        if isinstance(event_dict.get(key), str):
            event_dict[key] = _SECRET_VALUES.sub(REDACTED, event_dict[key])
    return event_dict


def _json_line(event: Any, **_: Any) -> str:
    # orjson: several times faster than json.dumps on the one-line-per-request hot path.
    return orjson.dumps(event, default=str).decode()


class UtcClock:
    """Timestamps exactly as TimeStamper(fmt="iso", utc=True) writes them
    (2024-05-01T12:00:00.123456Z, or ...:00Z on a whole second, as isoformat does), at a
    quarter of the cost: what precedes the fraction changes once a second, so it is formatted
    once a second. datetime.now() floors the system clock to microseconds; so does this."""

    def __init__(self) -> None:
        self._second: tuple[int, str] = (-1, "")  # one tuple: threads never see half an update

    def now(self) -> str:
        return self.format(time.time_ns())

    def format(self, time_ns: int) -> str:
        second, micro = divmod(time_ns // 1000, 1_000_000)
        cached, prefix = self._second
        if second != cached:
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, prefix)
        return f"{prefix}.{micro:06d}Z" if micro else f"{prefix}Z"


_STANDARD_METHODS = frozenset(
    ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")
)


class AccessLog:
    """One line per answered request, on the "taskwell.access" logger at INFO.

    With JSON lines, the line is rendered here and written straight to the handler
    configure_logging installed: the same keys, order and values the structlog formatter gives
    a stdlib record logged with these fields as `extra`, for a sixth of its cost (measured
    in-process, ~10 us against ~65 us a request: the record, the formatter's chain of processors
    and its regex scrub of every field were most of what observing a request cost). It still
    honours the logger's level and `disabled` and the handler's level, and falls back to the
    formatter when filters are attached or structlog context variables are bound (they could
    add any field). Other handlers on the root logger (pytest's capture, say) and Sentry's
    logging breadcrumbs do not see it. Console output always goes through the formatter.

    The same guarantee as redact_secrets: no field name is credential-like, and the fields a
    client can write (path, request id, a non-standard method) are masked like any free text;
    the others are bounded by the code (route templates, problem types, ints, a UUID, an
    address the server or a trusted proxy reported).
    """

    def __init__(self) -> None:
        self._logger = logging.getLogger(ACCESS_LOGGER)
        self._handler: logging.StreamHandler[TextIO] | None = None
        self._clock = UtcClock()

    def write_json_to(self, handler: logging.StreamHandler[TextIO] | None) -> None:
        """Render JSON lines onto handler; None: log through the stdlib logger instead."""
        self._handler = handler

    def request(
        self,
        scope: Scope,
        *,
        route: str,
        status: int,
        duration_seconds: float,
        bytes_sent: int,
        problem_type: str | None,
    ) -> None:
        logger = self._logger
        if not logger.isEnabledFor(logging.INFO):
            return
        state = scope.get("state") or {}
        user_id = state.get("user_id")
        fields: dict[str, Any] = {
            "method": scope["method"],
            "route": route,
            "path": scope["path"],
            "status": status,
            "duration_ms": round(duration_seconds * 1000, 2),
            "request_id": state.get("request_id"),
            "user_id": str(user_id) if user_id else None,
            "client_ip": state.get("client_ip"),
            "bytes": bytes_sent,
            "problem_type": problem_type,
        }
        handler = self._handler
        if handler is None or handler.filters or logger.filters or _context_is_bound():
            logger.info("request", extra=fields)
        elif handler.level <= logging.INFO:
            _write(handler, self._render(fields))

    def _render(self, fields: dict[str, Any]) -> str:
        line: dict[str, Any] = {
            "event": "request",
            "level": "info",
            "logger": ACCESS_LOGGER,
            "timestamp": self._clock.now(),
        }
        line.update(fields)
        line["path"] = _SECRET_VALUES.sub(REDACTED, line["path"])
        if line["request_id"] is not None:
            line["request_id"] = _SECRET_VALUES.sub(REDACTED, line["request_id"])
        if line["method"] not in _STANDARD_METHODS:
            line["method"] = _SECRET_VALUES.sub(REDACTED, line["method"])
        return orjson.dumps(line, default=str).decode()


# The context variables structlog.contextvars.bind_contextvars ever made in this process.
_EVER_BOUND: dict[str, Any] | None = getattr(structlog.contextvars, "_CONTEXT_VARS", None)


def _context_is_bound() -> bool:
    """Whether structlog context variables are bound: the formatter merges them into a line
    (after "event", redacted like any field), so such lines go its way. Nothing binds any
    today; looking costs a walk over every context variable, so first ask whether anything
    ever did (a private dict of structlog's: if it goes away, we simply always look)."""
    if _EVER_BOUND is not None and not _EVER_BOUND:
        return False
    return bool(structlog.contextvars.merge_contextvars(None, "info", {}))


def _write(handler: logging.StreamHandler[TextIO], text: str) -> None:
    """What StreamHandler.handle and .emit do with a formatted record."""
    try:
        handler.acquire()
        try:
            stream = handler.stream
            stream.write(text + handler.terminator)
            stream.flush()
        finally:
            handler.release()
    except Exception:
        handler.handleError(
            logging.makeLogRecord(
                {
                    "name": ACCESS_LOGGER,
                    "msg": "request",
                    "levelno": logging.INFO,
                    "levelname": "INFO",
                }
            )
        )


ACCESS_LOG = AccessLog()


def configure_logging(settings: Settings, stream: TextIO | None = None) -> None:
    json_lines = settings.log_format == "json" or (
        settings.log_format == "auto" and settings.env is Environment.production
    )
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.ExtraAdder(),
        redact_secrets,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer(serializer=_json_line)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact_rendered_traceback,
            renderer,
        ],
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(formatter)
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())
    ACCESS_LOG.write_json_to(handler if json_lines else None)
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # The app logs each request itself (http.edge), with the route template and no
    # query string; uvicorn's own access line would log it twice. Without handlers uvicorn
    # does not even format it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
