"""Request logs: one structured line per request, JSON in production, and never a secret."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from taskwell.observability.logging import REDACTED, redact_secrets
from tests.observability.conftest import (
    LOGIN,
    LOGOUT,
    ME,
    PASSWORD,
    REFRESH,
    REGISTER,
    TASKS,
    ObserveApp,
    bearer,
    sign_up,
)

JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwic2lkIjoiYWJjIn0"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
NEW_PASSWORD = "amber kettle whistles over 77 dunes"


def _redact(**fields: Any) -> dict[str, Any]:
    return dict(redact_secrets(None, "info", dict(fields)))


def _raise_on_boom(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("forced failure")


# redact_secrets, the processor every line passes through


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "current_password",
        "token",
        "access_token",
        "refresh_token",
        "authorization",
        "Authorization",
        "cookie",
        "set-cookie",
        "api_key",
        "api-key",
        "X-API-Key",
        "client_secret",
    ],
)
def test_fields_named_like_credentials_are_redacted(key: str) -> None:
    assert _redact(**{key: "hunter2-value"})[key] == REDACTED


def test_credential_fields_are_redacted_inside_nested_values() -> None:
    redacted = _redact(
        body={"email": "ada@example.com", "password": "hunter2", "nested": {"token": "t0k"}},
        headers=[{"authorization": "Basic abc"}, {"accept": "application/json"}],
    )
    assert redacted["body"] == {
        "email": "ada@example.com",
        "password": REDACTED,
        "nested": {"token": REDACTED},
    }
    assert redacted["headers"] == [{"authorization": REDACTED}, {"accept": "application/json"}]


def test_jwt_inside_free_text_is_masked() -> None:
    redacted = _redact(event=f"could not decode {JWT} for user", detail=[f"got {JWT}"])
    assert redacted["event"] == f"could not decode {REDACTED} for user"
    assert redacted["detail"] == [f"got {REDACTED}"]


def test_bearer_credential_inside_free_text_is_masked() -> None:
    redacted = _redact(event="header was Bearer abcdefghijklmnop0123456789 and more")
    assert "abcdefghijklmnop0123456789" not in redacted["event"]
    assert redacted["event"].startswith("header was ")
    assert redacted["event"].endswith(" and more")


def test_ordinary_fields_are_kept() -> None:
    fields = {
        "event": "request",
        "method": "GET",
        "route": "/api/v1/tasks/{task_id}",
        "status": 200,
        "duration_ms": 1.5,
        "user_id": str(uuid.uuid4()),
        "client_ip": "127.0.0.1",
        "bytes": 42,
    }
    assert _redact(**fields) == fields


# The access log


async def test_each_request_is_logged_once_with_its_fields(observe: ObserveApp) -> None:
    async with observe() as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        created = await observed.client.post(TASKS, json={"title": "Log me"}, headers=alice.headers)
        task_id = created.json()["id"]
        response = await observed.client.get(
            f"{TASKS}/{task_id}", headers={**alice.headers, "X-Request-ID": "req-log-0001"}
        )
        assert response.status_code == 200

    [line] = observed.access_lines("req-log-0001")
    assert line["event"] == "request"
    assert line["method"] == "GET"
    assert line["route"] == "/api/v1/tasks/{task_id}"
    assert task_id not in line["route"]
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], int | float)
    assert line["duration_ms"] >= 0
    assert line["user_id"] == alice.user_id
    assert line["client_ip"] == "127.0.0.1"
    assert line["bytes"] == len(response.content)
    assert line["level"] == "info"
    assert line["timestamp"]


async def test_every_request_gets_exactly_one_line(observe: ObserveApp) -> None:
    async with observe(prepare=_raise_on_boom) as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        requests = [
            ("GET", ME, alice.headers, 200),
            ("GET", f"{TASKS}/{uuid.uuid4()}", alice.headers, 404),  # a domain error
            ("GET", f"{TASKS}/not-a-uuid", alice.headers, 422),  # a validation error
            ("GET", ME, {}, 401),  # no credentials
            ("GET", "/api/v1/nowhere", {}, 404),  # no route at all
            ("PUT", LOGIN, {}, 405),
            ("GET", "/boom", {}, 500),  # an unhandled exception
            ("GET", "/healthz", {}, 200),
            ("POST", REGISTER, {"Content-Type": "application/json"}, 413),  # body over the cap
        ]
        ids = []
        for number, (method, path, headers, status) in enumerate(requests):
            request_id = f"req-once-{number:04d}"
            response = await observed.client.request(
                method,
                path,
                headers={**headers, "X-Request-ID": request_id},
                content=b"[" + b"1," * 600_000 + b"1]" if status == 413 else None,
            )
            assert response.status_code == status, (path, response.text)
            ids.append((request_id, status))

    for request_id, status in ids:
        lines = observed.access_lines(request_id)
        assert len(lines) == 1, (request_id, lines)
        assert lines[0]["status"] == status


async def test_a_cors_preflight_is_logged_too(observe: ObserveApp) -> None:
    async with observe(cors_origins="https://app.example.com") as observed:
        response = await observed.client.options(
            TASKS,
            headers={
                "Origin": "https://app.example.com",
                "Access-Control-Request-Method": "POST",
                "X-Request-ID": "req-preflight",
            },
        )
    assert response.status_code == 200
    [line] = observed.access_lines("req-preflight")
    assert line["method"] == "OPTIONS"
    assert line["status"] == 200


async def test_a_failed_request_names_its_problem_type(observe: ObserveApp) -> None:
    async with observe(prepare=_raise_on_boom) as observed:
        alice = await sign_up(observed.client, "alice@example.com")
        await observed.client.get(
            f"{TASKS}/{uuid.uuid4()}", headers={**alice.headers, "X-Request-ID": "req-missing-1"}
        )
        await observed.client.get("/boom", headers={"X-Request-ID": "req-boom-0001"})

    [missing] = observed.access_lines("req-missing-1")
    assert missing["problem_type"] == "task-not-found"
    assert missing["user_id"] == alice.user_id
    [boom] = observed.access_lines("req-boom-0001")
    assert boom["status"] == 500
    assert boom["route"] == "/boom"
    assert boom["problem_type"] == "internal-error"


async def test_unmatched_paths_do_not_become_routes(observe: ObserveApp) -> None:
    """The route field (and the metrics label) stays bounded: an unknown path is not a route."""
    async with observe() as observed:
        await observed.client.get(
            "/api/v1/probe-1234567890", headers={"X-Request-ID": "req-unmatched"}
        )
    [line] = observed.access_lines("req-unmatched")
    assert "probe-1234567890" not in line["route"]


async def test_anonymous_requests_log_no_user(observe: ObserveApp) -> None:
    async with observe() as observed:
        await observed.client.get("/healthz", headers={"X-Request-ID": "req-anonymous"})
    [line] = observed.access_lines("req-anonymous")
    assert line.get("user_id") is None


async def test_access_log_can_be_turned_off(observe: ObserveApp) -> None:
    async with observe(access_log=False) as observed:
        await observed.client.get("/healthz")
    assert observed.access_lines() == []


async def test_production_logs_json_lines_by_default(observe: ObserveApp) -> None:
    async with observe(log_format="auto", env="production", secret_key="p" * 40) as observed:
        await observed.client.get("/healthz", headers={"X-Request-ID": "req-production"})
    lines = observed.text.splitlines()
    assert lines
    parsed = [json.loads(line) for line in lines]
    assert [p["route"] for p in parsed if p.get("request_id") == "req-production"] == ["/healthz"]


async def test_development_logs_readable_console_lines(observe: ObserveApp) -> None:
    async with observe(log_format="auto", env="development") as observed:
        await observed.client.get("/healthz", headers={"X-Request-ID": "req-development"})
    [line] = [line for line in observed.text.splitlines() if "req-development" in line]
    with pytest.raises(json.JSONDecodeError):
        json.loads(line)
    assert "request" in line
    assert "route=/healthz" in line
    assert "status=200" in line
    assert "\x1b[" not in line  # no colour codes in files and pipes


# No secret in any line


async def test_no_secret_reaches_any_log_line(observe: ObserveApp) -> None:
    """A whole session, failures included, logged at debug level: none of its credentials
    shows up anywhere in what was logged."""
    garbage = "garbage-token-" + uuid.uuid4().hex
    wrong_password = "wrong horse battery staple 9981"
    invalid_body_password = "body-secret-" + uuid.uuid4().hex
    secrets: list[str] = [garbage, wrong_password, invalid_body_password, NEW_PASSWORD]

    async with observe(log_level="debug") as observed:
        client = observed.client
        alice = await sign_up(client, "alice@example.com")
        secrets += [alice.password, alice.access_token, alice.refresh_token]

        refreshed = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        assert refreshed.status_code == 200, refreshed.text
        access, refresh = refreshed.json()["access_token"], refreshed.json()["refresh_token"]
        secrets += [access, refresh]
        reused = await client.post(REFRESH, json={"refresh_token": alice.refresh_token})
        assert reused.status_code == 401
        login = await client.post(LOGIN, json={"email": alice.email, "password": alice.password})
        assert login.status_code == 200, login.text
        access, refresh = login.json()["access_token"], login.json()["refresh_token"]
        secrets += [access, refresh]

        assert (await client.get(ME, headers=bearer(access))).status_code == 200
        changed = await client.post(
            PASSWORD,
            json={"current_password": alice.password, "new_password": NEW_PASSWORD},
            headers=bearer(access),
        )
        assert changed.status_code == 204, changed.text
        created = await client.post(TASKS, json={"title": "Secretless"}, headers=bearer(access))
        assert created.status_code == 201, created.text
        task_path = f"{TASKS}/{created.json()['id']}"
        assert (await client.get(task_path, headers=bearer(access))).status_code == 200
        assert (await client.get(TASKS, headers=bearer(access))).status_code == 200
        patched = await client.patch(task_path, json={"title": "Still"}, headers=bearer(access))
        assert patched.status_code == 200, patched.text
        assert (await client.post(LOGOUT, headers=bearer(access))).status_code == 204

        failed = await client.post(LOGIN, json={"email": alice.email, "password": wrong_password})
        assert failed.status_code == 401
        invalid = await client.post(
            LOGIN, json={"email": ["not", "an", "email"], "password": invalid_body_password}
        )
        assert invalid.status_code == 422
        weak_password = uuid.uuid4().hex[:10]  # too short: refused by the policy
        weak = await client.post(
            REGISTER, json={"email": "bob@example.com", "password": weak_password}
        )
        assert weak.status_code == 422
        secrets.append(weak_password)
        for header in (f"Bearer {garbage}", f"Bearer {access}"):
            rejected = await client.get(ME, headers={"Authorization": header})
            assert rejected.status_code == 401
            secrets.append(header)

    text = observed.text
    assert len(observed.access_lines()) >= 15  # the flow was logged...
    leaked = [secret for secret in secrets if secret in text]
    assert leaked == []  # ...and none of its secrets
    assert "eyJ" not in text  # no JWT at all, whoever's


async def test_secrets_passed_to_a_logger_are_redacted(observe: ObserveApp) -> None:
    """The app's own loggers and third-party ones both go through the redaction."""
    import logging

    import structlog

    async with observe() as observed:
        structlog.get_logger("taskwell.test").info(
            "structlog line", password="hunter2-structlog", detail=f"token {JWT}"
        )
        logging.getLogger("thirdparty").warning(
            "stdlib line with %s", f"Bearer {JWT}", extra={"api_key": "hunter2-stdlib"}
        )
    text = observed.text
    assert "hunter2" not in text
    assert JWT not in text
    lines = {
        line["event"].split(" ")[0]: line for line in observed.lines() if "line" in line["event"]
    }
    assert lines["structlog"]["password"] == REDACTED
    assert lines["stdlib"]["api_key"] == REDACTED


@pytest.mark.parametrize("log_format", ["json", "console"])
async def test_a_token_quoted_in_a_logged_traceback_is_masked(
    observe: ObserveApp, log_format: str
) -> None:
    import logging

    import structlog

    async with observe(log_format=log_format) as observed:
        try:
            raise RuntimeError(f"could not decode {JWT}")
        except RuntimeError as exc:
            logging.getLogger("thirdparty").error("decode failed", exc_info=exc)
            structlog.get_logger("taskwell.test").exception("decode failed")
    assert observed.text.count("RuntimeError: could not decode") == 2
    assert JWT not in observed.text
