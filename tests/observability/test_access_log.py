"""The access line: rendered straight to the log handler in JSON mode, yet exactly the line the
structlog formatter would write, honouring levels, filters and bound context, never a secret."""

from __future__ import annotations

import datetime
import io
import json
import logging
import re
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from starlette.types import Message, Receive, Scope, Send

from taskwell.observability.logging import (
    _HANDLER_MARK,
    ACCESS_LOG,
    ACCESS_LOGGER,
    REDACTED,
    UtcClock,
    configure_logging,
)
from taskwell.observability.middleware import RequestObserver
from taskwell.settings import Settings
from tests.observability.conftest import TASKS, ObserveApp, metric, sign_up

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwic2lkIjoiYWJjIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
API_KEY = "tw_0123abcd_" + "k" * 24
KEYS = [
    "event",
    "level",
    "logger",
    "timestamp",
    "method",
    "route",
    "path",
    "status",
    "duration_ms",
    "request_id",
    "user_id",
    "client_ip",
    "bytes",
    "problem_type",
]
# TimeStamper(fmt="iso", utc=True): microseconds unless on a whole second.
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


def _scope(path: str = "/api/v1/tasks/42", method: str = "GET", **state: Any) -> Scope:
    return {"type": "http", "method": method, "path": path, "state": state}


def _log_request(scope: Scope, status: int = 200, problem_type: str | None = None) -> None:
    ACCESS_LOG.request(
        scope,
        route="/api/v1/tasks/{task_id}",
        status=status,
        duration_seconds=0.0123456,
        bytes_sent=321,
        problem_type=problem_type,
    )


def _lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def _handler() -> logging.Handler:
    """The handler configure_logging installed."""
    [handler] = [h for h in logging.getLogger().handlers if getattr(h, _HANDLER_MARK, False)]
    return handler


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Logging configured as in production (JSON lines) into a buffer; levels restored."""
    stream = io.StringIO()
    configure_logging(Settings(env="test", log_format="json", log_level="info"), stream)
    root, access, handler = logging.getLogger(), logging.getLogger(ACCESS_LOGGER), _handler()
    yield stream
    root.setLevel(logging.INFO)
    access.setLevel(logging.NOTSET)
    for filtered in (access, handler):
        filtered.filters.clear()
    handler.setLevel(logging.NOTSET)


# One line, the formatter's


def test_the_line_is_the_one_the_formatter_writes_for_the_same_fields(
    json_log: io.StringIO,
) -> None:
    user_id = uuid.uuid4()
    scope = _scope(
        f"/api/v1/tasks/{JWT}",
        method="PROPFIND",
        request_id="req-equal-0001",
        user_id=user_id,
        client_ip="203.0.113.9",
    )
    _log_request(scope, status=404, problem_type="task-not-found")
    logging.getLogger(ACCESS_LOGGER).info(
        "request",
        extra={
            "method": "PROPFIND",
            "route": "/api/v1/tasks/{task_id}",
            "path": f"/api/v1/tasks/{JWT}",
            "status": 404,
            "duration_ms": 12.35,
            "request_id": "req-equal-0001",
            "user_id": str(user_id),
            "client_ip": "203.0.113.9",
            "bytes": 321,
            "problem_type": "task-not-found",
        },
    )
    direct, formatted = _lines(json_log)
    assert list(direct) == list(formatted) == KEYS
    assert {**direct, "timestamp": None} == {**formatted, "timestamp": None}
    assert direct["path"] == f"/api/v1/tasks/{REDACTED}"
    assert ISO_UTC.match(direct["timestamp"])


def test_json_lines_skip_the_formatter(
    json_log: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    formatted: list[str] = []
    original = structlog.stdlib.ProcessorFormatter.format

    def counting(self: structlog.stdlib.ProcessorFormatter, record: logging.LogRecord) -> str:
        formatted.append(record.name)
        return original(self, record)

    monkeypatch.setattr(structlog.stdlib.ProcessorFormatter, "format", counting)
    _log_request(_scope(request_id="req-direct-01"))
    assert formatted == []
    assert [line["request_id"] for line in _lines(json_log)] == ["req-direct-01"]


def test_console_lines_go_through_the_formatter() -> None:
    stream = io.StringIO()
    configure_logging(Settings(env="test", log_format="console"), stream)
    _log_request(_scope(request_id="req-console-01"))
    [line] = stream.getvalue().splitlines()
    assert "request" in line
    assert "request_id=req-console-01" in line


def test_the_timestamp_is_written_as_structlogs_iso_utc_stamper_writes_it() -> None:
    clock = UtcClock()
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
    for time_ns in (1_700_000_000_000_000_000, 1_700_000_000_123_456_789, 1_700_000_001_000_999):
        written = epoch + datetime.timedelta(microseconds=time_ns // 1000)
        assert clock.format(time_ns) == written.isoformat().replace("+00:00", "Z")


# Secrets


@pytest.mark.parametrize("secret", [JWT, API_KEY, "Bearer abcdefghijklmnop0123456789"])
def test_a_token_in_the_path_is_masked(json_log: io.StringIO, secret: str) -> None:
    _log_request(_scope(f"/api/v1/tasks/{secret}"))
    [line] = _lines(json_log)
    assert line["path"] == f"/api/v1/tasks/{REDACTED}"


def test_a_token_sent_as_the_request_id_or_method_is_masked(json_log: io.StringIO) -> None:
    _log_request(_scope(request_id=JWT))
    _log_request(_scope(method=API_KEY))
    assert JWT not in json_log.getvalue()
    assert API_KEY not in json_log.getvalue()
    by_id, by_method = _lines(json_log)
    assert by_id["request_id"] == REDACTED
    assert by_method["method"] == REDACTED


async def test_a_token_in_a_requested_path_never_reaches_the_log(observe: ObserveApp) -> None:
    async with observe() as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        response = await observed.client.get(
            f"{TASKS}/{alice.access_token}",
            headers={**alice.headers, "X-Request-ID": "req-token-path"},
        )
    assert response.status_code == 422
    assert alice.access_token not in observed.text
    [line] = observed.access_lines("req-token-path")
    assert line["path"] == f"{TASKS}/{REDACTED}"


# Through the app


async def test_an_error_line_names_the_user_the_route_and_the_problem(
    observe: ObserveApp,
) -> None:
    async with observe() as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        missing = f"{TASKS}/{uuid.uuid4()}"
        response = await observed.client.get(
            missing, headers={**alice.headers, "X-Request-ID": "req-shape-0001"}
        )
    [line] = observed.access_lines("req-shape-0001")
    assert list(line) == KEYS
    assert line == {
        "event": "request",
        "level": "info",
        "logger": ACCESS_LOGGER,
        "timestamp": line["timestamp"],
        "method": "GET",
        "route": "/api/v1/tasks/{task_id}",
        "path": missing,
        "status": 404,
        "duration_ms": line["duration_ms"],
        "request_id": "req-shape-0001",
        "user_id": alice.user_id,
        "client_ip": "127.0.0.1",
        "bytes": len(response.content),
        "problem_type": "task-not-found",
    }
    assert ISO_UTC.match(line["timestamp"])
    assert isinstance(line["duration_ms"], float)


async def test_a_success_line_has_no_problem_type(observe: ObserveApp) -> None:
    async with observe() as observed:
        await observed.client.get("/healthz", headers={"X-Request-ID": "req-shape-0002"})
    [line] = observed.access_lines("req-shape-0002")
    assert list(line) == KEYS
    assert line["problem_type"] is None
    assert line["user_id"] is None


# Levels, filters, bound context


def test_a_line_is_written_when_the_access_logger_allows_info(json_log: io.StringIO) -> None:
    logging.getLogger().setLevel(logging.WARNING)
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.INFO)
    _log_request(_scope(request_id="req-level-info"))
    assert [line["request_id"] for line in _lines(json_log)] == ["req-level-info"]


def test_no_line_when_the_access_logger_is_above_info(json_log: io.StringIO) -> None:
    logging.getLogger(ACCESS_LOGGER).setLevel(logging.WARNING)
    _log_request(_scope())
    assert json_log.getvalue() == ""


def test_no_line_when_the_root_logger_is_above_info() -> None:
    stream = io.StringIO()
    configure_logging(Settings(env="test", log_format="json", log_level="warning"), stream)
    _log_request(_scope())
    assert stream.getvalue() == ""


def test_no_line_when_the_handler_is_above_info(json_log: io.StringIO) -> None:
    _handler().setLevel(logging.WARNING)
    _log_request(_scope())
    assert json_log.getvalue() == ""


def test_filters_still_apply(json_log: io.StringIO) -> None:
    _handler().addFilter(lambda record: record.__dict__.get("status") != 404)
    _log_request(_scope(request_id="req-filter-404"), status=404)
    _log_request(_scope(request_id="req-filter-200"), status=200)
    assert [line["request_id"] for line in _lines(json_log)] == ["req-filter-200"]


def test_bound_context_is_merged_and_redacted_as_in_any_line(json_log: io.StringIO) -> None:
    with structlog.contextvars.bound_contextvars(tenant="acme", session_token="s3cr3t-value"):
        _log_request(_scope(request_id="req-bound-0001"))
    [line] = _lines(json_log)
    assert set(list(line)[1:3]) == {"tenant", "session_token"}  # where the formatter puts it
    assert list(line)[3:] == KEYS[1:]
    assert line["tenant"] == "acme"
    assert line["session_token"] == REDACTED
    assert line["request_id"] == "req-bound-0001"


# Observing from another middleware


async def test_another_middleware_can_observe_requests_with_a_request_observer(
    json_log: io.StringIO,
) -> None:
    """The finishing step is plain: a combined edge middleware can record requests itself."""
    observer = RequestObserver(log_requests=True, record_metrics=True)
    labels = {"method": "GET", "route": "<unmatched>", "status": "418"}
    errors = {"route": "<unmatched>", "status": "418", "problem_type": "teapot"}
    before = metric("taskwell_http_request_duration_seconds_count", **labels)
    errors_before = metric("taskwell_http_errors_total", **errors)
    in_flight = metric("taskwell_http_requests_in_flight")

    async def edge(scope: Scope, receive: Receive, send: Send) -> None:
        observer.start()
        during.append(metric("taskwell_http_requests_in_flight"))
        scope["state"]["problem_type"] = "teapot"
        observer.finish(scope, 418, 0.004, 12)

    during: list[float] = []
    await edge(_scope("/brew", request_id="req-edge-0001"), _no_receive, _no_send)

    assert during == [in_flight + 1]
    assert metric("taskwell_http_requests_in_flight") == in_flight
    assert metric("taskwell_http_request_duration_seconds_count", **labels) == before + 1
    assert metric("taskwell_http_errors_total", **errors) == errors_before + 1
    [line] = _lines(json_log)
    assert (line["status"], line["bytes"], line["duration_ms"]) == (418, 12, 4.0)
    assert line["problem_type"] == "teapot"


async def _no_receive() -> Message:
    raise AssertionError("not called")


async def _no_send(message: Message) -> None:
    raise AssertionError("not called")
