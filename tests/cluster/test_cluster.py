"""scripts/cluster as an operator runs it: `up` starts every part from Debian packages and
waits until nginx reaches a ready instance, `status` reports each part, a second `up` changes
nothing, one part restarts alone, and `down` leaves no process and no open port.

The whole module shares one cluster (about 10 s to bring up); the tests run in file order and
the last one takes it down."""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from scripts.cluster_lib import Cluster, ClusterConfig
from scripts.cluster_lib.processes import children, identities
from tests.cluster.support import (
    client,
    free_base_port,
    new_state_dir,
    require_debian_packages,
    ssl_context,
)
from tests.conftest import STRONG_PASSWORD

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster"
INSTANCES = 2


@dataclass
class Deployment:
    state_dir: Path
    config: ClusterConfig
    up_seconds: float

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--state-dir", str(self.state_dir), *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def status(self) -> dict[str, dict[str, Any]]:
        result = self.cli("status", "--json")
        return {row["name"]: row for row in json.loads(result.stdout)}


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    require_debian_packages()
    state_dir = new_state_dir()
    base = free_base_port(INSTANCES)
    started = time.monotonic()
    up = subprocess.run(
        [sys.executable, str(SCRIPT), "--state-dir", str(state_dir), "up",
         "--base-port", str(base), "--instances", str(INSTANCES)],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    print(f"\nscripts/cluster up (from nothing): {seconds:.1f} s\n{up.stdout}{up.stderr}")
    config = ClusterConfig.load(state_dir)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        assert config is not None
        yield Deployment(state_dir, config, seconds)
    finally:
        subprocess.run(
            [sys.executable, str(SCRIPT), "--state-dir", str(state_dir), "down"],
            capture_output=True, timeout=120, check=False,
        )  # fmt: skip
        shutil.rmtree(state_dir, ignore_errors=True)


def test_up_starts_every_component_and_prints_the_urls(deployment: Deployment) -> None:
    status = deployment.status()
    config = deployment.config

    assert list(status) == [
        "primary", "replica", "pgbouncer", "redis", "app1", "app2", "worker", "nginx",
    ]  # fmt: skip
    for name, row in status.items():
        assert row["up"], (name, row)
        assert row["pid"] is not None
        assert row["port"] == config.port(name)
    assert status["replica"]["detail"].startswith("streaming"), status["replica"]


def test_status_exits_non_zero_when_a_component_is_down(deployment: Deployment) -> None:
    text = deployment.cli("status")
    assert text.returncode == 0
    assert "replay lag" in text.stdout
    assert deployment.cli("kill", "app2").returncode == 0

    after_kill = deployment.cli("status")
    row = next(line for line in after_kill.stdout.splitlines() if line.startswith("app2"))

    assert after_kill.returncode == 3
    assert row.split()[1] == "down"
    assert deployment.cli("up").returncode == 0  # starts what is missing
    assert deployment.status()["app2"]["up"]


def test_up_again_changes_nothing(deployment: Deployment) -> None:
    before = {name: row["pid"] for name, row in deployment.status().items()}
    again = deployment.cli("up")
    after = {name: row["pid"] for name, row in deployment.status().items()}
    assert again.returncode == 0, again.stderr
    assert after == before


def test_nginx_serves_https_http2_the_app_and_its_static_files(deployment: Deployment) -> None:
    config = deployment.config
    with client(config) as https:
        ready = https.get("/readyz")
        index = https.get("/")
        spec = https.get("/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
        too_big = https.post(
            "/api/v1/tasks",
            content=b"{" + b" " * (2 * 1024 * 1024) + b"}",
            headers={"Content-Type": "application/json"},
        )
    plain = client(config)
    plain.base_url = f"http://localhost:{config.port('nginx-http')}"
    with plain:
        redirect = plain.get("/tasks?x=1")

    assert ready.json()["status"] == "ready"
    assert ready.headers["strict-transport-security"].startswith("max-age=")
    assert index.status_code == 200
    assert index.headers["content-type"].startswith("text/html")
    assert '<script type="module"' in index.text
    assert spec.headers["content-encoding"] == "gzip"
    assert json.loads(spec.content)["openapi"]  # httpx decoded the gzip body
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    assert redirect.status_code == 301
    assert redirect.headers["location"] == f"{config.https_origin}/tasks?x=1"
    assert _alpn(config) == "h2"


def _alpn(config: ClusterConfig) -> str | None:
    context = ssl_context(config)
    context.set_alpn_protocols(["h2", "http/1.1"])
    with (
        socket.create_connection(("127.0.0.1", config.port("nginx")), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        return tls.selected_alpn_protocol()


async def test_a_write_through_pgbouncer_reaches_the_replica(deployment: Deployment) -> None:
    config = deployment.config
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    title = f"replicated {uuid.uuid4().hex}"
    with client(config) as https:
        registered = https.post(
            "/api/v1/auth/register", json={"email": email, "password": STRONG_PASSWORD}
        )
        tokens = https.post(
            "/api/v1/auth/login", json={"email": email, "password": STRONG_PASSWORD}
        ).json()
        created = https.post(
            "/api/v1/tasks",
            json={"title": title},
            headers={"Authorization": f"Bearer {tokens['access_token']}"},
        )
    assert registered.status_code == 201
    assert created.status_code == 201, created.text

    replica = await asyncpg.connect(_direct_dsn(config, "replica"))
    try:
        found = None
        for _ in range(100):  # bounded: replay takes milliseconds on loopback
            found = await replica.fetchval("SELECT title FROM tasks WHERE title = $1", title)
            if found:
                break
            await asyncio.sleep(0.05)
        in_recovery = await replica.fetchval("SELECT pg_is_in_recovery()")
    finally:
        await replica.close()
    assert found == title
    assert in_recovery is True


def _direct_dsn(config: ClusterConfig, server: str) -> str:
    return config.database_url(server).replace("postgresql+asyncpg://", "postgresql://")


def test_one_component_restarts_alone(deployment: Deployment) -> None:
    before = {name: row["pid"] for name, row in deployment.status().items()}
    restarted = deployment.cli("restart", "pgbouncer")
    after = deployment.status()

    assert restarted.returncode == 0, restarted.stderr
    assert after["pgbouncer"]["up"]
    assert after["pgbouncer"]["pid"] != before["pgbouncer"]
    assert {n: r["pid"] for n, r in after.items() if n != "pgbouncer"} == {
        n: p for n, p in before.items() if n != "pgbouncer"
    }
    with client(deployment.config) as https:
        assert https.get("/readyz").status_code == 200


def test_an_unknown_component_is_refused(deployment: Deployment) -> None:
    result = deployment.cli("restart", "mysql")
    assert result.returncode == 1
    assert "no component 'mysql'" in result.stderr


def test_down_leaves_no_process_and_no_port(deployment: Deployment) -> None:
    cluster = Cluster(deployment.config)
    pids = [row["pid"] for row in deployment.status().values()]
    processes = identities([*pids, *(child for pid in pids for child in children(pid))])

    down = deployment.cli("down")
    again = deployment.cli("down")
    status = deployment.cli("status")

    assert down.returncode == 0, down.stderr
    assert again.returncode == 0, again.stderr  # nothing to stop is fine too
    assert cluster.leftovers(processes) == []
    assert status.returncode == 3
    print(f"\nmeasured: up from nothing took {deployment.up_seconds:.1f} s")
