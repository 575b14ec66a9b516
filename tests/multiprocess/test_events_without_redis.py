"""Without Redis, writes made by another process still reach a stream within a moment: two
real `taskwell serve` processes on one database, nothing between them but the database (the
streams' own poll is a minute; what arrives sooner came by the change feed's beacon)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx

from tests.conftest import PG_URL, STRONG_PASSWORD
from tests.support.processes import AppProcess, run_taskwell


def _sign_in(client: httpx.Client) -> dict[str, str]:
    body = {"email": f"{uuid.uuid4().hex[:12]}@example.com", "password": STRONG_PASSWORD}
    assert client.post("/api/v1/auth/register", json=body).status_code == 201
    token = client.post("/api/v1/auth/login", json=body).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _data_lines(lines: Iterator[str], most: int = 50) -> Iterator[str]:
    for _, line in zip(range(most), lines, strict=False):
        if line.startswith("data: "):
            yield line.removeprefix("data: ")


def test_a_write_through_another_process_is_pushed_without_redis(tmp_path: Path) -> None:
    database = PG_URL or f"sqlite+aiosqlite:///{tmp_path / 'taskwell.db'}"
    env = {
        "TASKWELL_ENV": "test",
        "TASKWELL_DATABASE_URL": database,
        "TASKWELL_AUTO_MIGRATE": "false",
        "TASKWELL_EVENTS_POLL_SECONDS": "60",
        "TASKWELL_ACCESS_LOG": "false",
        "TASKWELL_LOG_LEVEL": "warning",
    }
    run_taskwell(env, "db", "upgrade", cwd=tmp_path)
    apps = [AppProcess(tmp_path, env, cwd=tmp_path) for _ in range(2)]
    try:
        for app in apps:
            app.start()
        for app in apps:
            app.wait_ready()
        timeout = httpx.Timeout(5.0, read=5.0)
        with (
            httpx.Client(base_url=apps[0].base_url, timeout=timeout) as a,
            httpx.Client(base_url=apps[1].base_url, timeout=timeout) as b,
        ):
            headers = _sign_in(a)
            request = a.build_request("GET", "/api/v1/events", headers=headers)
            stream = a.send(request, stream=True)
            try:
                lines = stream.iter_lines()
                assert '"token"' in next(_data_lines(lines))  # ready
                made = b.post("/api/v1/tasks", json={"title": "via B"}, headers=headers)
                assert made.status_code == 201
                sent = time.monotonic()
                for data in _data_lines(lines):
                    changes = json.loads(data).get("changes", [])
                    if any(c["id"] == made.json()["id"] for c in changes):
                        break
                else:
                    raise AssertionError("the change never came")
                assert time.monotonic() - sent < 5.0  # the stream's own poll is 60 s
            finally:
                stream.close()
    finally:
        for app in apps:
            app.stop()
