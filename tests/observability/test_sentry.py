"""Error tracking: an unhandled error reaches Sentry with the release, environment, request id
and user id, and nothing about the person or the request beyond that.

A small HTTP server on loopback stands in for Sentry and keeps every envelope POSTed to it.
"""

from __future__ import annotations

import gzip
import json
import threading
import uuid
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import sentry_sdk
from fastapi import FastAPI, Request

import taskwell.observability.sentry as taskwell_sentry
from taskwell import __version__
from taskwell.auth.deps import TasksReader
from tests.observability.conftest import ObserveApp, sign_up
from tests.support.processes import free_port


@dataclass
class Envelope:
    headers: dict[str, Any]
    items: list[tuple[dict[str, Any], bytes]]

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(payload) for header, payload in self.items if header["type"] == "event"]


def parse_envelope(raw: bytes) -> Envelope:
    """Sentry's envelope format: a header line, then items (a header line and a payload,
    `length` bytes long when the item header says so, otherwise up to the next newline)."""
    first, _, rest = raw.partition(b"\n")
    items = []
    while rest.strip():
        header_line, _, rest = rest.partition(b"\n")
        header = json.loads(header_line)
        if "length" in header:
            payload, rest = rest[: header["length"]], rest[header["length"] :]
            rest = rest.removeprefix(b"\n")
        else:
            payload, _, rest = rest.partition(b"\n")
        items.append((header, payload))
    return Envelope(json.loads(first), items)


@dataclass
class FakeSentry:
    port: int
    received: list[bytes] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def dsn(self) -> str:
        return f"http://public@127.0.0.1:{self.port}/1"

    def envelopes(self) -> list[Envelope]:
        with self.lock:
            return [parse_envelope(raw) for raw in self.received]

    def events(self) -> list[dict[str, Any]]:
        return [event for envelope in self.envelopes() for event in envelope.events()]

    def raw_text(self) -> str:
        with self.lock:
            return b"\n".join(self.received).decode(errors="replace")


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "deflate":
        return zlib.decompress(body)
    assert encoding in ("", "identity"), f"unexpected Content-Encoding {encoding!r}"
    return body


@pytest.fixture
def fake_sentry() -> Iterator[FakeSentry]:
    sink = FakeSentry(free_port())

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            decoded = _decode(body, self.headers.get("Content-Encoding", "").lower())
            with sink.lock:
                sink.received.append(decoded)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", sink.port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def sentry_reset() -> Iterator[None]:
    """Sentry's client is process-wide: put it back to "off" whatever the test did."""
    enabled = taskwell_sentry._enabled
    try:
        yield
    finally:
        sentry_sdk.flush(timeout=5)
        sentry_sdk.init(dsn=None)
        taskwell_sentry._enabled = enabled


BODY_MARKER = "body-marker-" + uuid.uuid4().hex
BODY_PASSWORD = "body-password-" + uuid.uuid4().hex


def _add_failing_route(app: FastAPI) -> None:
    @app.post("/boom")
    async def boom(principal: TasksReader, request: Request) -> None:
        await request.body()  # the body was read: it still must not be sent
        # A careless message quoting a credential: masked before it leaves.
        raise RuntimeError(f"forced failure; header was {request.headers['authorization']}")


@pytest.mark.usefixtures("sentry_reset")
async def test_an_unhandled_error_reaches_sentry_without_personal_data(
    observe: ObserveApp, fake_sentry: FakeSentry
) -> None:
    async with observe(
        prepare=_add_failing_route,
        env="production",
        secret_key="s" * 40,
        sentry_dsn=fake_sentry.dsn,
    ) as observed:
        alice = await sign_up(observed.client, "alice.sentry@example.com")
        response = await observed.client.post(
            "/boom",
            headers={**alice.headers, "Cookie": "tw_session=cookie-secret-value"},
            json={"note": BODY_MARKER, "password": BODY_PASSWORD},
        )
        assert response.status_code == 500
        assert sentry_sdk.flush(timeout=10) is not False

    events = [e for e in fake_sentry.events() if e.get("exception")]
    assert events, f"no event arrived; got {fake_sentry.raw_text()[:2000]}"
    event = events[0]
    exception = event["exception"]["values"][-1]
    assert exception["type"] == "RuntimeError"
    assert exception["value"].startswith("forced failure; header was ")
    assert event["release"] == f"taskwell@{__version__}"
    assert event["environment"] == "production"
    assert event["tags"]["request_id"] == response.headers["x-request-id"]
    assert event["user"] == {"id": alice.user_id}

    text = fake_sentry.raw_text()
    for secret in (
        alice.email,
        alice.password,
        alice.access_token,
        alice.refresh_token,
        BODY_MARKER,
        BODY_PASSWORD,
        "cookie-secret-value",
        "Bearer ",
    ):
        assert secret not in text, secret
    headers = {k.lower() for k in (event.get("request") or {}).get("headers", {})}
    assert not headers & {"authorization", "cookie", "x-api-key"}
    assert "data" not in (event.get("request") or {})


@pytest.mark.usefixtures("sentry_reset")
async def test_each_error_is_reported_once(observe: ObserveApp, fake_sentry: FakeSentry) -> None:
    async with observe(
        prepare=_add_failing_route, sentry_dsn=fake_sentry.dsn, sentry_environment="staging"
    ) as observed:
        alice = await sign_up(observed.client, "alice.once@example.com")
        response = await observed.client.post("/boom", headers=alice.headers, json={})
        assert response.status_code == 500
        sentry_sdk.flush(timeout=10)

    events = [e for e in fake_sentry.events() if e.get("level", "error") in ("error", "fatal")]
    assert len(events) == 1, [e.get("tags") for e in events]
    assert events[0]["environment"] == "staging"


async def test_without_a_dsn_errors_are_not_reported(
    observe: ObserveApp, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(taskwell_sentry, "_enabled", False)
    captured: list[BaseException] = []
    monkeypatch.setattr(sentry_sdk, "capture_exception", captured.append)
    async with observe(prepare=_add_failing_route, sentry_dsn=None) as observed:
        alice = await sign_up(observed.client, "alice.nodsn@example.com")
        response = await observed.client.post("/boom", headers=alice.headers, json={})
    assert response.status_code == 500
    assert taskwell_sentry._enabled is False
    assert captured == []
