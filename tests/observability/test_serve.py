"""`taskwell serve` as a real process: its stdout is JSON lines, uvicorn's own lines included,
and with several workers any worker's /metrics counts the requests every worker answered."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.processes import free_port, run_taskwell

START_TIMEOUT = 60.0  # two workers importing the app on a busy 2-core machine


class Served:
    """`python -m taskwell serve` in its own folder, stdout and stderr in separate files."""

    def __init__(self, workdir: Path, *args: str, **env: str) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.stdout = workdir / f"stdout-{self.port}.log"
        self.stderr = workdir / f"stderr-{self.port}.log"
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")},
            "PYTHONUNBUFFERED": "1",
            "TASKWELL_LOG_FORMAT": "json",
            "TASKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'taskwell.db'}",
            **env,
        }
        self.env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        self.args = args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.stdout.open("wb") as out, self.stderr.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "taskwell", "serve", "--port", str(self.port), *self.args],
                cwd=self.workdir,
                env=self.env,
                stdout=out,
                stderr=err,
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise AssertionError(f"taskwell serve exited while starting:\n{self.output()}")
            try:
                if httpx.get(f"{self.base_url}/api/v1/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"taskwell serve not ready:\n{self.output()}")
            time.sleep(0.1)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def stdout_lines(self) -> list[str]:
        return [line for line in self.stdout.read_text().splitlines() if line.strip()]

    def output(self) -> str:
        tail = self.stdout_lines()[-40:]
        return "\n".join(tail) + "\n--- stderr ---\n" + self.stderr.read_text()[-4000:]


@pytest.fixture
def served() -> Iterator[list[Served]]:
    """Servers a test starts; all stopped afterwards, whatever happened."""
    started: list[Served] = []
    try:
        yield started
    finally:
        for server in started:
            server.stop()


def _parse_all(lines: list[str]) -> list[dict[str, Any]]:
    parsed = []
    for line in lines:
        try:
            parsed.append(json.loads(line))
        except json.JSONDecodeError:
            pytest.fail(f"stdout line is not JSON: {line!r}")
    return parsed


def test_every_stdout_line_is_json_uvicorns_included(tmp_path: Path, served: list[Served]) -> None:
    server = Served(tmp_path)
    served.append(server)
    server.start()
    response = httpx.get(f"{server.base_url}/healthz", headers={"X-Request-ID": "req-served-1"})
    assert response.status_code == 200
    server.stop()

    lines = _parse_all(server.stdout_lines())
    uvicorn_events = [
        line["event"] for line in lines if line.get("logger", "").startswith("uvicorn")
    ]
    assert any(event.startswith("Started server process") for event in uvicorn_events)
    assert "Application startup complete." in uvicorn_events
    assert any(event.startswith("Uvicorn running on") for event in uvicorn_events)
    assert any(event.startswith("Finished server process") for event in uvicorn_events)
    assert all({"event", "level", "timestamp", "logger"} <= line.keys() for line in lines)
    # Logged once, by the app: uvicorn's own access line would be a second, differently
    # shaped line for the same request.
    mentions = [line for line in lines if "/healthz" in json.dumps(line)]
    assert len(mentions) == 1, mentions
    assert mentions[0]["logger"] == "taskwell.access"
    assert mentions[0]["request_id"] == "req-served-1"
    assert mentions[0]["route"] == "/healthz"
    assert mentions[0]["status"] == 200


def _scrape(base_url: str) -> tuple[float, set[str]]:
    """(requests counted for GET /healthz 200, pids reporting process gauges) from one scrape
    on a fresh connection, so the scrapes spread over the workers."""
    text = httpx.get(f"{base_url}/metrics", timeout=5, headers={"Connection": "close"}).text
    count, pids = 0.0, set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = sample.labels
            if (
                sample.name == "taskwell_http_request_duration_seconds_count"
                and labels.get("route") == "/healthz"
                and labels.get("method") == "GET"
                and labels.get("status") == "200"
            ):
                count += sample.value
            if sample.name == "taskwell_process_open_fds" and "pid" in labels:
                pids.add(labels["pid"])
    return count, pids


def test_metrics_add_up_across_workers(tmp_path: Path, served: list[Served]) -> None:
    server = Served(tmp_path, "--workers", "2", TASKWELL_AUTO_MIGRATE="false")
    run_taskwell(
        {k: v for k, v in server.env.items() if k.startswith("TASKWELL_")},
        "db",
        "upgrade",
        cwd=tmp_path,
    )
    served.append(server)
    server.start()

    requests = 20
    for _ in range(requests):
        # A new connection each time: the workers share the listening socket, so the
        # requests spread over both.
        response = httpx.get(f"{server.base_url}/healthz", headers={"Connection": "close"})
        assert response.status_code == 200

    # A worker records a request just after answering it: wait (bounded) for the last one.
    deadline = time.monotonic() + 10
    while _scrape(server.base_url)[0] < requests and time.monotonic() < deadline:
        time.sleep(0.05)
    scrapes = [_scrape(server.base_url) for _ in range(12)]
    counts = [count for count, _ in scrapes]
    assert counts == [requests] * len(scrapes), f"{counts}\n{server.output()}"
    worker_pids = set().union(*(pids for _, pids in scrapes))
    assert len(worker_pids) >= 2, worker_pids  # both workers' samples are in every scrape
    server.stop()
    lines = _parse_all(server.stdout_lines())  # the supervisor's and both workers' alike
    assert not [line for line in lines if line.get("logger") == "uvicorn.access"]
    healthz = [line for line in lines if line.get("route") == "/healthz"]
    assert len(healthz) == requests  # each request logged once, by whichever worker
