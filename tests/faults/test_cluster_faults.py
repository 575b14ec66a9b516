"""Faults under load, on the loopback cluster (scripts/cluster): a mixed load runs through
nginx while, in turn, an app instance is killed with SIGKILL and started again, the replica
restarts, Redis restarts and PgBouncer restarts. Afterwards every acknowledged write is
present with its content (through the API and in the primary), no task is duplicated, and
every failed request overlapped a fault's window. Stopping an instance with SIGTERM under
load fails no request at all.

A fault's window runs from the moment it is injected until the component is back and ready,
plus nginx's fail_timeout and a second: an instance that answered 502/503 once stays out of
rotation that long (deploy/nginx/README.md). The report prints failures and recovery per
fault."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import random
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import asyncpg
import httpx
import pytest

from scripts.cluster_lib import Cluster
from scripts.cluster_lib.nginx import FAIL_TIMEOUT_SECONDS
from tests.cluster.load import Load, Outcome, Worker
from tests.cluster.support import async_client, running_cluster

WORKERS = 6
WARM_UP = 3.0
DOWN_FOR = 2.0  # how long a killed instance stays dead before it is started again
SETTLE = FAIL_TIMEOUT_SECONDS + 1.0
GRACE = FAIL_TIMEOUT_SECONDS + 1.0


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    with running_cluster(instances=2) as (running, _seconds):
        yield running


@dataclass
class Fault:
    name: str
    injected: float
    recovered: float = 0.0
    failures: list[Outcome] = field(default_factory=list)

    @property
    def window_end(self) -> float:
        return self.recovered + GRACE

    def covers(self, outcome: Outcome) -> bool:
        return outcome.started <= self.window_end and outcome.ended >= self.injected

    def report(self) -> str:
        if not self.failures:
            return f"{self.name:<22} back after {self.recovered - self.injected:5.2f} s, 0 failed"
        last = max(o.ended for o in self.failures) - self.injected
        kinds: dict[str, int] = {}
        for outcome in self.failures:
            kind = f"{outcome.op} {outcome.status or 'no answer'}"
            kinds[kind] = kinds.get(kind, 0) + 1
        summary = ", ".join(f"{n} x {k}" for k, n in sorted(kinds.items()))
        return (
            f"{self.name:<22} back after {self.recovered - self.injected:5.2f} s, "
            f"{len(self.failures)} failed ({summary}), last failure {last:.2f} s after the fault"
        )


async def _in_thread(action: Callable[[], None]) -> None:
    await asyncio.to_thread(action)


async def _inject(name: str, action: Callable[[], None]) -> Fault:
    fault = Fault(name, time.monotonic())
    await _in_thread(action)
    fault.recovered = time.monotonic()
    await asyncio.sleep(SETTLE)
    return fault


def _kill_and_start(cluster: Cluster, app: str) -> Callable[[], None]:
    def action() -> None:
        cluster.kill(app)
        time.sleep(DOWN_FOR)
        cluster.start(app)

    return action


def _load(cluster: Cluster, seed: int) -> tuple[Load, list[httpx.AsyncClient]]:
    clients = [async_client(cluster.config) for _ in range(WORKERS)]
    workers = [Worker(f"w{i}", client, random.Random(seed + i)) for i, client in enumerate(clients)]
    return Load(workers), clients


async def test_acknowledged_writes_survive_faults_and_failures_stay_inside_them(
    cluster: Cluster,
) -> None:
    load, clients = _load(cluster, seed=7)
    faults: list[Fault] = []
    started = time.monotonic()
    try:
        await load.start()
        await asyncio.sleep(WARM_UP)
        faults.append(await _inject("app1 SIGKILL + start", _kill_and_start(cluster, "app1")))
        for component in ("replica", "redis", "pgbouncer"):
            faults.append(
                await _inject(f"{component} restart", functools.partial(cluster.restart, component))
            )
    finally:
        await load.finish()
        for client in clients:
            await client.aclose()

    outside = []
    for failure in load.failures():
        covering = [f for f in faults if f.covers(failure)]
        if not covering:
            outside.append(failure)
            continue
        # Windows can touch: the failure belongs to the latest fault injected before it ended.
        latest = max((f for f in covering if f.injected <= failure.ended), key=lambda f: f.injected)
        latest.failures.append(failure)
    total = len(load.outcomes)
    print(f"\nfault test: {total} requests in {time.monotonic() - started:.1f} s, "
          f"{len(load.failures())} failed")  # fmt: skip
    for fault in faults:
        print("  " + fault.report())

    for line in _app_errors(cluster):
        print("  app error: " + line)

    assert outside == [], [o.describe() for o in outside]
    # A dependency that is away is a 503 (retry), never an internal error.
    assert [o.describe() for o in load.failures() if o.status == 500] == []
    await _check_acknowledged_writes(cluster, load)


def _app_errors(cluster: Cluster, limit: int = 10) -> list[str]:
    """The instances' logged errors (JSON lines), shortened: what the 5xx answers were."""
    found = []
    for app in cluster.apps:
        with contextlib.suppress(OSError):
            for line in app.log.read_text(errors="replace").splitlines():
                with contextlib.suppress(ValueError):
                    event = json.loads(line)
                    if event.get("level") == "error":
                        lines = str(event.get("exception", "")).strip().splitlines()
                        # The exception's own line, not SQLAlchemy's trailing notes.
                        named = [x for x in lines if re.match(r"^[\w.]+(Error|Exception)\b", x)]
                        cause = named[-1:] or lines[-1:]
                        found.append(f"{app.name} {event.get('path')}: {' '.join(cause)}")
    return found[:limit]


async def test_stopping_an_instance_politely_fails_no_request(cluster: Cluster) -> None:
    load, clients = _load(cluster, seed=11)
    try:
        await load.start()
        await asyncio.sleep(WARM_UP)
        stopping = time.monotonic()
        await _in_thread(lambda: cluster.stop("app2"))
        stopped = time.monotonic() - stopping
        await asyncio.sleep(2.0)  # one instance serves everything
        await _in_thread(lambda: cluster.start("app2"))
        await asyncio.sleep(2.0)
    finally:
        await load.finish()
        for client in clients:
            await client.aclose()

    print(f"\ndrain: app2 stopped in {stopped:.2f} s under load; "
          f"{len(load.outcomes)} requests, {len(load.failures())} failed")  # fmt: skip
    assert [o.describe() for o in load.failures()] == []
    await _check_acknowledged_writes(cluster, load)


async def _check_acknowledged_writes(cluster: Cluster, load: Load) -> None:
    """Every acknowledged task, through the API and in the primary, with its last
    acknowledged content (or a later update whose answer was lost); no duplicates."""
    async with async_client(cluster.config) as client:
        for worker in load.workers:
            for task in worker.tasks.values():
                response = await client.get(f"/api/v1/tasks/{task.id}", headers=worker.headers)
                assert response.status_code == 200, response.text
                body = response.json()
                assert task.allows(body["title"], body["description"]), (task, body)
                assert body["version"] >= task.version

    dsn = cluster.config.database_url("primary").replace("+asyncpg", "")
    primary = await asyncpg.connect(dsn)
    try:
        for worker in load.workers:
            rows = await primary.fetch(
                "SELECT t.id::text AS id, t.title, t.description FROM tasks t "
                "JOIN users u ON u.id = t.created_by WHERE u.email = $1",
                worker.email,
            )
            stored = {row["id"]: row for row in rows}
            for task in worker.tasks.values():
                assert task.id in stored, f"acknowledged task {task.id} is missing"
                row = stored[task.id]
                assert task.allows(row["title"], row["description"]), (task, dict(row))
            base_titles = [row["title"].split(" ~")[0] for row in rows]
            assert len(base_titles) == len(set(base_titles)), "a create was applied twice"
            assert set(base_titles) <= set(worker.attempted.values())
    finally:
        await primary.close()
