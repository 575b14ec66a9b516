"""Bring scripts/cluster up for a test module: the Debian packages it needs (skip locally,
fail in CI), a state directory and a free block of ports of its own, and an HTTPS client that
verifies the cluster's generated certificate."""

from __future__ import annotations

import os
import random
import shutil
import socket
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from scripts.cluster_lib import Cluster, ClusterConfig
from scripts.cluster_lib import nginx as cluster_nginx
from scripts.cluster_lib.components import PG_BIN
from scripts.cluster_lib.config import APP_OFFSET
from tests.workers import port_range

GENEROUS = "100000/minute"
# Every client of a test comes through nginx from 127.0.0.1: one address for the limits.
UNLIMITED = {
    f"TASKWELL_RATE_LIMIT_{group}": GENEROUS
    for group in ("DEFAULT", "USER", "LOGIN", "LOGIN_ACCOUNT", "REGISTER", "REFRESH", "RUM")
}


def require_debian_packages() -> None:
    """Skip when a package the cluster runs is missing; in CI (which installs them), fail."""
    checks = {
        "postgresql-15": (PG_BIN / "postgres").exists(),
        "pgbouncer": shutil.which("pgbouncer") is not None,
        "redis-server": shutil.which("redis-server") is not None,
        "nginx": cluster_nginx.binary() is not None,
        "libnginx-mod-http-modsecurity": cluster_nginx.MODSECURITY_MODULE.exists(),
        "modsecurity-crs": (cluster_nginx.CRS_RULES / "REQUEST-901-INITIALIZATION.conf").exists(),
    }
    missing = [package for package, present in checks.items() if not present]
    reason = f"scripts/cluster needs: apt-get install {' '.join(missing)}"
    built = (ClusterConfig().static_root / "index.html").exists()
    if not missing and not built and shutil.which("npm") is None:
        missing, reason = ["nodejs"], "the browser app is not built and npm is missing"
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)


def free_base_port(instances: int) -> int:
    """A base port whose whole block (nginx .. last app) is free, below 32768."""
    for _ in range(100):
        low, high = port_range()
        base = random.randrange(low, high - APP_OFFSET - instances, 50)
        ports = range(base, base + APP_OFFSET + instances)
        if all(_free(port) for port in ports):
            return base
    raise RuntimeError("no free block of ports below 32768")


def _free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def new_state_dir() -> Path:
    """World-enterable (PostgreSQL's user and nginx's workers go through it), unlike pytest's
    private temporary directories."""
    path = Path(tempfile.mkdtemp(prefix="taskwell-cluster-"))
    path.chmod(0o755)
    return path


def cluster_config(instances: int = 2) -> ClusterConfig:
    return ClusterConfig(
        state_dir=new_state_dir(),
        base_port=free_base_port(instances),
        instances=instances,
        app_overrides=dict(UNLIMITED),
    )


@contextmanager
def running_cluster(instances: int = 2) -> Iterator[tuple[Cluster, float]]:
    """The cluster, up (and how many seconds that took); down and purged afterwards."""
    require_debian_packages()
    cluster = Cluster(cluster_config(instances))
    try:
        seconds = cluster.up()
        print(f"\nscripts/cluster up: {seconds:.1f} s ({instances} instances)")
        yield cluster, seconds
    finally:
        cluster.down(purge=True)


def ssl_context(config: ClusterConfig) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(config.cafile))


def client(config: ClusterConfig) -> httpx.Client:
    return httpx.Client(base_url=config.https_origin, verify=ssl_context(config), timeout=15.0)


def async_client(config: ClusterConfig) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=config.https_origin,
        verify=ssl_context(config),
        timeout=httpx.Timeout(10.0),
        limits=httpx.Limits(max_connections=4),
    )
