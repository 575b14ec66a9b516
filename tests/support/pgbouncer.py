"""PgBouncer in transaction mode in front of the test PostgreSQL, for the suite's third backend.

With TASKWELL_TEST_PGBOUNCER=1 (set by .ci/run) the PostgreSQL tests run once more through it,
with TASKWELL_DB_STATEMENT_CACHE_SIZE=0 as docs/scaling.md prescribes: everything the app does
must work when consecutive transactions land on different server connections.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from tests.support.processes import free_port


def _wait_listening(port: int, process: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited: {log.read_text()[-2000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen on {port}: {log.read_text()[-2000:]}")


@contextmanager
def pgbouncer_in_front_of(database_url: str) -> Iterator[str]:
    """Start PgBouncer (transaction mode) for the URL's server; yield the URL through it."""
    binary = shutil.which("pgbouncer") or shutil.which("pgbouncer", path="/usr/sbin")
    if binary is None:
        raise RuntimeError("pgbouncer is not installed (apt-get install pgbouncer)")
    url = sa.make_url(database_url)
    port = free_port()
    root = Path(tempfile.mkdtemp(prefix="taskwell-pgbouncer-"))
    users = root / "userlist.txt"
    users.write_text(f'"{url.username}" "{url.password or ""}"\n')
    ini = root / "pgbouncer.ini"
    log = root / "pgbouncer.log"
    ini.write_text(
        "[databases]\n"
        f"* = host={url.host or '127.0.0.1'} port={url.port or 5432}\n"
        "[pgbouncer]\n"
        f"listen_addr = 127.0.0.1\nlisten_port = {port}\nunix_socket_dir =\n"
        f"auth_type = {'plain' if url.password else 'trust'}\nauth_file = {users}\n"
        "pool_mode = transaction\nmax_client_conn = 500\ndefault_pool_size = 20\n"
        f"logfile = {log}\n"
    )
    argv = [binary, str(ini)]
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        shutil.chown(root, "postgres", "postgres")
        for path in (users, ini):
            shutil.chown(path, "postgres", "postgres")
        argv = ["runuser", "-u", "postgres", "--", *argv]
    # Its own process group: `runuser` does not pass signals on to PgBouncer, which outlived
    # every run before (one orphan per pytest worker); the group's signal reaches both.
    process = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        _wait_listening(port, process, log)
        yield url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    finally:
        _signal_group(process, signal.SIGINT)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait(timeout=5)
        shutil.rmtree(root, ignore_errors=True)


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
