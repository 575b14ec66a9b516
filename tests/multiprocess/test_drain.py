"""SIGTERM with TASKWELL_SHUTDOWN_DRAIN_SECONDS: a real `taskwell serve` keeps serving, closes
each connection after its response, reports not ready, and only then stops (src/taskwell/drain.py).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

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
