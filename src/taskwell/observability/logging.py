"""Structured logs: JSON lines in production, readable console output in development.

The app's own loggers and uvicorn's go through one structlog formatter, so every line has the
same shape. Secrets never reach a line: fields named like credentials are replaced, and values
that look like tokens are masked, wherever they appear.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any, TextIO

import orjson
import structlog

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
    for name in ("uvicorn", "uvicorn.error"):
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    # The app logs each request itself (ObserveRequests), with the route template and no
    # query string; uvicorn's own access line would log it twice. Without handlers uvicorn
    # does not even format it.
    access = logging.getLogger("uvicorn.access")
    access.handlers.clear()
    access.propagate = False
