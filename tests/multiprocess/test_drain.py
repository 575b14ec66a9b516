"""SIGTERM with TASKWELL_SHUTDOWN_DRAIN_SECONDS: a real `taskwell serve` keeps serving, closes
each connection after its response, reports not ready, and only then stops (src/taskwell/drain.py).
"""

from __future__ import annotations

import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import STRONG_PASSWORD
from tests.support.processes import AppProcess

DRAIN = 3.0


def _app(tmp_path: Path, **env: str) -> AppProcess:
    app = AppProcess(
        tmp_path,
        {
            "TASKWELL_ENV": "test",
            "TASKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'drain.db'}",
            **env,
        },
    )
    app.start()
    app.wait_ready()
    return app


def test_sigterm_drains_then_stops(tmp_path: Path) -> None:
    app = _app(tmp_path, TASKWELL_SHUTDOWN_DRAIN_SECONDS=str(DRAIN))
    assert app.process is not None
    try:
        with httpx.Client(base_url=app.base_url, timeout=5.0) as client:
            before = client.get("/readyz")
            assert before.status_code == 200
            assert before.headers.get("connection") != "close"

            app.process.send_signal(signal.SIGTERM)
            sent = time.monotonic()
            time.sleep(0.3)

            # Still serving, on new connections too; every answer closes its connection.
            during = client.get("/healthz")
            ready = client.get("/readyz")
            assert during.status_code == 200
            assert during.headers["connection"] == "close"
            assert ready.status_code == 503
            assert ready.json()["checks"]["shutdown"] == "draining"
            assert app.process.poll() is None

        app.process.wait(timeout=DRAIN + 15)
        assert time.monotonic() - sent >= DRAIN - 0.5  # served on through the drain
    finally:
        app.stop()


def test_the_drain_ends_refusing_new_connections_while_opened_ones_are_answered(
    tmp_path: Path,
) -> None:
    """The end of the drain: a connection a balancer has just opened, its request not yet
    written, still gets an answer; only new connections are refused (retried elsewhere)."""
    app = _app(tmp_path, TASKWELL_SHUTDOWN_DRAIN_SECONDS=str(DRAIN))
    assert app.process is not None
    address = ("127.0.0.1", app.port)
    try:
        with socket.create_connection(address, timeout=5.0) as opened:
            app.process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + DRAIN + 10
            while not _refused(address):  # accepted (and closed) through the drain
                assert time.monotonic() < deadline, "still accepting long after the drain"
                time.sleep(0.02)
            assert app.process.poll() is None

            opened.sendall(b"GET /healthz HTTP/1.1\r\nHost: taskwell\r\n\r\n")
            answer = _read_all(opened)
        head = answer.split(b"\r\n\r\n", 1)[0].lower()
        assert head.startswith(b"http/1.1 200"), answer[:200]
        assert b"connection: close" in head
        app.process.wait(timeout=15)
    finally:
        app.stop()


def _refused(address: tuple[str, int]) -> bool:
    try:
        socket.create_connection(address, timeout=1.0).close()
    except ConnectionRefusedError:
        return True
    return False


def _read_all(sock: socket.socket) -> bytes:
    """Until the server closes the connection (bounded)."""
    chunks = []
    for _ in range(1_000):
        chunk = sock.recv(65_536)
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def test_without_a_drain_sigterm_stops_at_once(tmp_path: Path) -> None:
    app = _app(tmp_path)  # TASKWELL_ENV=test: no drain unless configured
    assert app.process is not None
    try:
        app.process.send_signal(signal.SIGTERM)
        app.process.wait(timeout=15)
        with httpx.Client(base_url=app.base_url, timeout=1.0) as client:
            try:
                client.get("/healthz")
                raise AssertionError("still serving after SIGTERM without a drain")
            except httpx.TransportError:
                pass
    finally:
        app.stop()


def _open_stream(client: httpx.Client, app: AppProcess) -> tuple[httpx.Response, Iterator[str]]:
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    body = {"email": email, "password": STRONG_PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
    request = client.build_request(
        "GET", "/api/v1/events", headers={"Authorization": f"Bearer {token}"}
    )
    response = client.send(request, stream=True)
    assert response.status_code == 200
    lines = response.iter_lines()
    for _, line in zip(range(10), lines, strict=False):
        if line == "event: ready":
            return response, lines
    raise AssertionError("no ready event")


def _ended(lines: Iterator[str]) -> float:
    """Read until the server ends the stream; how long that took."""
    started = time.monotonic()
    for _, _line in zip(range(1_000), lines, strict=False):
        pass
    return time.monotonic() - started


@pytest.mark.parametrize("drain", [0.0, DRAIN])
def test_sigterm_ends_open_event_streams_at_once(tmp_path: Path, drain: float) -> None:
    """An event stream would keep the server from stopping (uvicorn waits for responses in
    flight): SIGTERM ends it at once, with or without a drain; the client reconnects."""
    app = _app(
        tmp_path,
        TASKWELL_SHUTDOWN_DRAIN_SECONDS=str(drain),
        TASKWELL_EVENTS_HEARTBEAT_SECONDS="60",
        TASKWELL_EVENTS_POLL_SECONDS="60",
    )
    assert app.process is not None
    try:
        with httpx.Client(base_url=app.base_url, timeout=httpx.Timeout(5.0, read=10.0)) as client:
            response, lines = _open_stream(client, app)
            app.process.send_signal(signal.SIGTERM)
            assert _ended(lines) < 2.0
            response.close()
        app.process.wait(timeout=drain + 10)
    finally:
        app.stop()
