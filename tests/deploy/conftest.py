"""A real Taskwell instance behind a real nginx with ModSecurity, for the edge tests.

The files in deploy/nginx are templates: `render_templates` (shared with scripts/cluster)
fills in their ${TASKWELL_NGINX_*} placeholders as envsubst does in production, pointing every
path into a temporary prefix. The
upstream has the live instance and a port where nothing listens, so every test also runs
through a "down" instance that nginx has to skip. nginx is not installed everywhere: without
it the tests skip locally and fail in CI (which installs it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import ssl
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from scripts.cluster_lib.nginx import (
    CRS_RULES,
    MODSECURITY_MODULE,
    instances_conf,
    main_conf,
    render_templates,
)
from scripts.cluster_lib.nginx import (
    binary as cluster_nginx_binary,
)
from tests.security.test_https import _self_signed
from tests.support.processes import AppProcess, free_port

DEBIAN_PACKAGES = "nginx libnginx-mod-http-modsecurity modsecurity-crs"
# The edge's client address; nginx connects to the app from 127.0.0.1, the trusted proxy.
CLIENT_ADDRESS = "127.0.0.2"
GENEROUS = "100000/minute"
RATE_LIMIT_GROUPS = ("default", "user", "login", "login_account", "register", "refresh")


def nginx_binary() -> str:
    """The nginx to test, with ModSecurity and the CRS; skip (fail in CI) when absent."""
    found = cluster_nginx_binary()
    problems = []
    if found is None:
        problems.append("nginx is not installed")
    if not MODSECURITY_MODULE.exists():
        problems.append(f"the ModSecurity module {MODSECURITY_MODULE} is missing")
    if not (CRS_RULES / "REQUEST-901-INITIALIZATION.conf").exists():
        problems.append(f"the OWASP CRS is missing from {CRS_RULES}")
    if problems:
        reason = "; ".join(problems) + f" (apt-get install {DEBIAN_PACKAGES})"
        if os.environ.get("CI"):
            pytest.fail(f"required in CI: {reason}")
        pytest.skip(reason)
    assert found is not None
    return found


def _tail(path: Path, lines: int = 60) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return ""


class NginxProcess:
    """nginx in the foreground (`daemon off`), so the Popen handle is the master process."""

    def __init__(self, binary: str, prefix: Path, conf: Path, probe_url: str, cafile: Path) -> None:
        self.command = [binary, "-p", str(prefix), "-c", str(conf)]
        self.error_log = prefix / "logs" / "error.log"
        self.probe_url = probe_url
        self.cafile = cafile
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 15.0) -> None:
        checked = subprocess.run(
            [*self.command, "-t"], capture_output=True, timeout=60, check=False
        )
        assert checked.returncode == 0, checked.stderr.decode(errors="replace")
        with self.error_log.open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command, "-g", "daemon off; master_process on;"],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        deadline = time.monotonic() + timeout
        verify = ssl.create_default_context(cafile=str(self.cafile))
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited while starting:\n{_tail(self.error_log)}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(self.probe_url, verify=verify, timeout=1.0).status_code == 200:
                    return
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx not ready in {timeout} s:\n{_tail(self.error_log)}")

    def stop(self, timeout: float = 10.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        workers = _children(process.pid)
        process.send_signal(signal.SIGQUIT)  # graceful: workers finish, then all exit
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            # A killed master leaves its workers running: end them by their own ids.
            for pid in [process.pid, *workers]:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(timeout)


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


@dataclass(frozen=True)
class Edge:
    """The running stack: where to reach it and where it writes."""

    https_origin: str
    http_origin: str
    cafile: Path
    prefix: Path
    audit_log: Path
    error_log: Path
    app: AppProcess
    down_instance_port: int

    def client(self) -> httpx.Client:
        """An HTTPS client calling from CLIENT_ADDRESS, verifying the test certificate."""
        verify = ssl.create_default_context(cafile=str(self.cafile))
        transport = httpx.HTTPTransport(verify=verify, local_address=CLIENT_ADDRESS)
        return httpx.Client(base_url=self.https_origin, transport=transport, timeout=15.0)


def _static_site(root: Path) -> None:
    """A stand-in for frontend/dist: index.html and one content-hashed asset."""
    (root / "assets").mkdir(parents=True)
    (root / "index.html").write_text("<!doctype html><title>Taskwell</title>\n")
    (root / "assets" / "app-3f9a1c2b.js").write_text("console.log('taskwell');\n")


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Edge]:
    binary = nginx_binary()
    # nginx run as root serves files as an unprivileged worker user, which cannot enter pytest's
    # private (0700) temporary directories: the prefix is a world-readable directory of its own.
    prefix = Path(tempfile.mkdtemp(prefix="taskwell-nginx-"))
    prefix.chmod(0o755)
    app_dir = tmp_path_factory.mktemp("edge-app")
    app = AppProcess(
        app_dir,
        {
            "TASKWELL_ENV": "test",
            "TASKWELL_DATABASE_URL": f"sqlite+aiosqlite:///{app_dir / 'taskwell.db'}",
            "TASKWELL_TRUSTED_PROXIES": "127.0.0.1",
            # The app sends HSTS too: the edge must not repeat the header.
            "TASKWELL_HSTS": "true",
            **{f"TASKWELL_RATE_LIMIT_{g.upper()}": GENEROUS for g in RATE_LIMIT_GROUPS},
        },
    )
    nginx: NginxProcess | None = None
    try:
        app.start()
        for name in ("conf", "logs", "tmp", "tls"):
            (prefix / name).mkdir()
        cert, key = _self_signed(prefix / "tls")
        _static_site(prefix / "dist")
        https_port, http_port, down_port = free_port(), free_port(), free_port()
        https_origin = f"https://localhost:{https_port}"
        conf_dir = prefix / "conf"
        audit_log = prefix / "tmp" / "modsec_audit.log"
        render_templates(
            {
                "TASKWELL_NGINX_DIR": str(conf_dir),
                "TASKWELL_NGINX_HTTP_LISTEN": f"127.0.0.1:{http_port}",
                "TASKWELL_NGINX_HTTPS_LISTEN": f"127.0.0.1:{https_port}",
                "TASKWELL_NGINX_SERVER_NAME": "localhost",
                "TASKWELL_NGINX_PUBLIC_ORIGIN": https_origin,
                "TASKWELL_NGINX_TLS_CERT": str(cert),
                "TASKWELL_NGINX_TLS_KEY": str(key),
                "TASKWELL_NGINX_STATIC_ROOT": str(prefix / "dist"),
                "TASKWELL_NGINX_MODSEC_TMP_DIR": str(prefix / "tmp"),
                "TASKWELL_NGINX_MODSEC_AUDIT_LOG": str(audit_log),
            },
            conf_dir,
        )
        (conf_dir / "taskwell-instances.conf").write_text(instances_conf([down_port, app.port]))
        (conf_dir / "nginx.conf").write_text(main_conf(prefix, conf_dir))
        app.wait_ready()
        nginx = NginxProcess(
            binary, prefix, conf_dir / "nginx.conf", f"{https_origin}/readyz", cert
        )
        nginx.start()
        yield Edge(
            https_origin=https_origin,
            http_origin=f"http://localhost:{http_port}",
            cafile=cert,
            prefix=prefix,
            audit_log=audit_log,
            error_log=nginx.error_log,
            app=app,
            down_instance_port=down_port,
        )
    finally:
        if nginx is not None:
            nginx.stop()
        app.stop()
        shutil.rmtree(prefix, ignore_errors=True)
