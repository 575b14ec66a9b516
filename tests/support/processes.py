"""Real redis-server and `taskwell serve` processes the tests own: start, wait, stop.

Ports come from below 32768 (the kernel's ephemeral range starts there, see
../shared/INFRA-NOTES.md), from this pytest-xdist worker's own slice (tests/workers.py) and a
random offset in it, so parallel workers never meet and parallel runs rarely do. Every wait is
bounded; a process that dies while starting fails the test with its log attached.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from tests.workers import port_range

REDIS_SERVER = shutil.which("redis-server")
_handed_out: set[int] = set()


def free_port() -> int:
    """A port below 32768 that nothing listens on right now (and not handed out before)."""
    low, high = port_range()
    for _ in range(200):
        port = random.randrange(low, high)
        if port in _handed_out:
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free port found below 32768")


def _stop(process: subprocess.Popen[bytes] | None, timeout: float = 5.0) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _tail(path: Path, lines: int = 40) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class RedisProcess:
    """A throw-away redis-server on its own port: no persistence, so a restart starts empty."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        if REDIS_SERVER is None:
            raise RuntimeError("redis-server is not installed")
        self.port = port or free_port()
        self.workdir = workdir
        self.log = workdir / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> None:
        assert REDIS_SERVER is not None
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    REDIS_SERVER,
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                    "--dir",
                    str(self.workdir),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited while starting:\n{_tail(self.log)}")
            if self.ping():
                return
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server not ready in {timeout} s:\n{_tail(self.log)}")

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self.process)
        self.process = None

    def __enter__(self) -> RedisProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def taskwell_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "taskwell", *args]


def run_taskwell(
    env: Mapping[str, str], *args: str, cwd: Path | None = None, timeout: float = 60.0
) -> None:
    """Run a short `taskwell` command (e.g. `db upgrade`) to completion; fail loudly."""
    result = subprocess.run(
        taskwell_command(*args),
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"taskwell {' '.join(args)} failed ({result.returncode}):\n"
            f"{result.stdout.decode(errors='replace')}\n{result.stderr.decode(errors='replace')}"
        )


class AppProcess:
    """`python -m taskwell serve --port P` with the given TASKWELL_* environment."""

    def __init__(
        self,
        workdir: Path,
        env: Mapping[str, str],
        port: int | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        # A working directory of its own keeps a developer's .env out of the test.
        self.cwd = cwd or workdir
        self.env = {**os.environ, **env}
        self.log = workdir / f"app-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                taskwell_command("serve", "--port", str(self.port)),
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Poll the OpenAPI document until it answers 200 (bounded)."""
        assert self.process is not None
        deadline = time.monotonic() + timeout
        with httpx.Client(base_url=self.base_url, timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"taskwell serve exited while starting:\n{_tail(self.log)}")
                with contextlib.suppress(httpx.TransportError):
                    if client.get("/api/v1/openapi.json").status_code == 200:
                        return
                time.sleep(0.05)
        raise RuntimeError(f"taskwell serve not ready in {timeout} s:\n{_tail(self.log)}")

    def stop(self) -> None:
        _stop(self.process, timeout=10.0)
        self.process = None

    def output(self) -> str:
        return _tail(self.log, 200)
