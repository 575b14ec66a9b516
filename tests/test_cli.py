"""The `taskwell` command, run as a real process the way a newcomer runs it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from taskwell import __version__
from tests.conftest import STRONG_PASSWORD
from tests.support.processes import free_port


def _run(
    args: list[str], cwd: Path, stdin: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-m", "taskwell", *args],
        cwd=cwd,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version(tmp_path: Path) -> None:
    result = _run(["--version"], tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == f"taskwell {__version__}"


def test_db_upgrade_current_and_downgrade(tmp_path: Path) -> None:
    assert "needs `taskwell db upgrade`" in _run(["db", "current"], tmp_path).stdout
    assert _run(["db", "upgrade"], tmp_path).returncode == 0
    assert (tmp_path / "taskwell.db").exists()
    assert "up to date" in _run(["db", "current"], tmp_path).stdout
    assert _run(["db", "downgrade", "base"], tmp_path).returncode == 0
    assert "current: none" in _run(["db", "current"], tmp_path).stdout


def test_user_create_bootstraps_an_admin(tmp_path: Path) -> None:
    _run(["db", "upgrade"], tmp_path)
    result = _run(
        ["user", "create", "--email", "root@example.com"], tmp_path, stdin=STRONG_PASSWORD + "\n"
    )
    assert result.returncode == 0, result.stderr
    assert "Created admin user" in result.stdout
    weak = _run(["user", "create", "--email", "x@example.com"], tmp_path, stdin="password\n")
    assert weak.returncode == 1
    assert "Not created" in weak.stderr


def test_production_refuses_to_start_with_the_builtin_secret(tmp_path: Path) -> None:
    result = _run(["serve"], tmp_path, TASKWELL_ENV="production")
    assert result.returncode == 2
    assert "TASKWELL_SECRET_KEY" in result.stderr


def test_production_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    port = free_port()
    result = _run(
        ["serve", "--port", str(port)],
        tmp_path,
        TASKWELL_ENV="production",
        TASKWELL_SECRET_KEY="p" * 40,
    )
    assert result.returncode != 0
    assert "taskwell db upgrade" in result.stdout + result.stderr


def test_serve_starts_on_the_embedded_default(tmp_path: Path) -> None:
    """The README's first command: no configuration, a fresh folder, a working API."""
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    server = subprocess.Popen(
        [sys.executable, "-m", "taskwell", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.status_code == 200
        registered = httpx.post(
            f"{base}/api/v1/auth/register",
            json={"email": "new@example.com", "password": STRONG_PASSWORD},
        )
        assert registered.status_code == 201
        assert (tmp_path / "taskwell.db").exists()
    finally:
        server.terminate()
        server.wait(timeout=20)
