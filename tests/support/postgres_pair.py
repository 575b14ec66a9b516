"""A throwaway PostgreSQL primary with a streaming replica, for the replica tests.

Both run from Debian's PostgreSQL binaries in a temporary directory on their own ports, as the
postgres user when the tests run as root (PostgreSQL refuses to run as root). Missing binaries:
the tests skip locally and fail in CI.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.processes import free_port

BIN = Path(os.environ.get("TASKWELL_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


def _run(*argv: str) -> None:
    subprocess.run(_as_postgres(list(argv)), check=True, capture_output=True, timeout=60)


class PostgresPair:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.primary_dir = root / "primary"
        self.replica_dir = root / "replica"
        self.primary_port = free_port()
        self.replica_port = free_port()

    def url(self, port: int) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/taskwell"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def replica_url(self) -> str:
        return self.url(self.replica_port)

    def _pg_ctl(self, data: Path, *args: str) -> None:
        _run(str(BIN / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), *args)

    def start(self) -> None:
        _run(str(BIN / "initdb"), "-D", str(self.primary_dir), "-A", "trust", "-U", "postgres")
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.primary_port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\nwal_level = replica\n"
                "max_wal_senders = 4\nfsync = off\n"
            )
        with (self.primary_dir / "pg_hba.conf").open("a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        self._pg_ctl(self.primary_dir, "-w", "start")
        _run(str(BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.primary_port), "taskwell")
        _run(
            str(BIN / "pg_basebackup"),
            *("-h", "127.0.0.1", "-p", str(self.primary_port), "-U", "postgres"),
            *("-D", str(self.replica_dir), "-R", "-X", "stream", "-c", "fast"),
            *("-C", "-S", "replica1"),
        )
        with (self.replica_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\nhot_standby = on\n")
        self.start_replica()

    def start_replica(self) -> None:
        self._pg_ctl(self.replica_dir, "-w", "start")

    def stop_replica(self) -> None:
        self._pg_ctl(self.replica_dir, "-m", "immediate", "-w", "stop")

    def stop(self) -> None:
        for data in (self.replica_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                self._pg_ctl(data, "-m", "immediate", "-w", "stop")


@contextmanager
def postgres_pair() -> Iterator[PostgresPair]:
    if not (BIN / "initdb").exists():
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL binaries are required in CI ({BIN})")
        pytest.skip(f"no PostgreSQL binaries in {BIN}")
    root = Path(tempfile.mkdtemp(prefix="taskwell-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    pair = PostgresPair(root)
    try:
        pair.start()
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(root, ignore_errors=True)
