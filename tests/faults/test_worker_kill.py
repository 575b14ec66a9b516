"""A worker killed in the middle of a delivery: the delivery arrives again, under the same
webhook-id, and the receiver's de-duplication keeps one.

Real processes on PostgreSQL and Redis: a `taskwell worker` sends a change's webhook to a
receiver on 127.0.0.1, which processes it but holds its answer; the worker gets SIGKILL while
it waits. A second worker, started afterwards, finds the delivery pending once the first
worker's lease has run out and sends it again."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from taskwell.settings import Settings
from tests.conftest import PG_URL, REDIS_URL, Account
from tests.support.processes import free_port
from tests.support.receiver import Receiver, verify

pytestmark = pytest.mark.skipif(
    not (PG_URL and REDIS_URL),
    reason="needs TASKWELL_TEST_DATABASE_URL and TASKWELL_TEST_REDIS_URL",
)

API = "/api/v1"
TIMEOUT, LEASE = 3.0, 4.0


@pytest.fixture
def settings(
    settings_factory: Callable[..., Settings], database_backend: str, redis_url: str | None
) -> Settings:
    if database_backend != "postgres" or redis_url is None:
        pytest.skip("runs on PostgreSQL with Redis")
    return settings_factory(
        argon2_memory_kib=8,
        argon2_time_cost=1,
        webhook_allow_http=True,
        webhook_allowed_networks="127.0.0.0/8",
    )


class WorkerProcess:
    """`python -m taskwell worker` with the test's database and Redis, in its own directory."""

    def __init__(self, workdir: Path, settings: Settings) -> None:
        self.port = free_port()
        self.log = workdir / f"worker-{self.port}.log"
        self.cwd = workdir
        assert settings.redis_url is not None
        self.env = {
            **os.environ,
            "TASKWELL_ENV": "test",
            "TASKWELL_DATABASE_URL": settings.database_url,
            "TASKWELL_REDIS_URL": settings.redis_url,
            "TASKWELL_WEBHOOK_ALLOW_HTTP": "true",
            "TASKWELL_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.0/8",
            "TASKWELL_WEBHOOK_TIMEOUT_SECONDS": str(TIMEOUT),
            "TASKWELL_WEBHOOK_LEASE_SECONDS": str(LEASE),
            "TASKWELL_WORKER_POLL_SECONDS": "0.5",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "taskwell", "worker", "--health-port", str(self.port)],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        with httpx.Client(timeout=1.0) as probe:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"the worker exited while starting:\n{self.output()}")
                with contextlib.suppress(httpx.TransportError):
                    if probe.get(f"http://127.0.0.1:{self.port}/healthz").status_code == 200:
                        return
                time.sleep(0.05)
        raise RuntimeError(f"the worker was not healthy in {timeout} s:\n{self.output()}")

    def kill(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        return self.process.wait(10)

    def terminate(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def stop_quietly(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


@pytest.fixture
def workers(tmp_path: Path, settings: Settings) -> Iterator[Callable[[], WorkerProcess]]:
    made: list[WorkerProcess] = []

    def make() -> WorkerProcess:
        made.append(WorkerProcess(tmp_path, settings))
        return made[-1]

    try:
        yield make
    finally:
        for worker in made:
            worker.stop_quietly()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver().start()
    try:
        yield server
    finally:
        server.stop()


async def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def test_a_worker_killed_mid_delivery_is_followed_by_the_same_delivery_again(
    client: httpx.AsyncClient,
    alice: Account,
    receiver: Receiver,
    workers: Callable[[], WorkerProcess],
) -> None:
    hook = await _ok(
        await client.post(
            f"{API}/webhooks",
            json={"url": receiver.url, "event_types": ["task.*"]},
            headers=alice.headers,
        ),
        201,
    )
    receiver.hold()  # process what arrives, keep the answer
    first_worker = workers()
    await asyncio.to_thread(first_worker.start)

    await _ok(
        await client.post(f"{API}/tasks", json={"title": "Exactly once"}, headers=alice.headers),
        201,
    )
    [first] = await asyncio.to_thread(receiver.wait_for, 1, 30.0)
    status = await asyncio.to_thread(first_worker.kill)
    receiver.release()
    second_worker = workers()
    await asyncio.to_thread(second_worker.start)
    arrived = await asyncio.to_thread(receiver.wait_for, 2, 30.0)
    for _ in range(100):  # the second worker records its attempt just after the answer
        [logged] = (
            await _ok(
                await client.get(f"{API}/webhooks/{hook['id']}/deliveries", headers=alice.headers)
            )
        )["items"]
        if logged["state"] == "delivered":
            break
        await asyncio.sleep(0.1)
    stopped = await asyncio.to_thread(second_worker.terminate)

    assert status == -signal.SIGKILL
    again = arrived[1]
    assert again.id == first.id
    assert again.body == first.body
    assert verify(hook["secret"], again.headers, again.body)
    assert first.json()["type"] == "task.updated"
    assert first.json()["data"]["title"] == "Exactly once"
    assert list(receiver.processed) == [first.id]  # de-duplicated by webhook-id
    assert len(receiver.requests) == 2
    assert logged["id"] == first.id
    assert logged["state"] == "delivered"
    assert [a["status_code"] for a in logged["attempts"]] == [200]
    assert stopped == 0, second_worker.output()
