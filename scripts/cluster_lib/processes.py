"""Process plumbing for the cluster: run a command, start a detached server, pid files, ports.

Servers are started in sessions of their own so they outlive the `scripts/cluster` command
that started them; their pids are kept in files, and every wait here is bounded.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

# PostgreSQL and PgBouncer refuse to run as root: as root, they run as this user.
SERVICE_USER = "postgres"


class ClusterError(RuntimeError):
    """A component did not start, stop or answer as it should."""


def service_user_ids() -> tuple[int, int] | None:
    """(uid, gid) to run PostgreSQL and PgBouncer as, or None when not root (run as oneself)."""
    if os.geteuid() != 0:
        return None
    entry = pwd.getpwnam(SERVICE_USER)
    return entry.pw_uid, entry.pw_gid


def as_service_user(**popen: Any) -> dict[str, Any]:
    ids = service_user_ids()
    if ids is None:
        return popen
    env = {**(popen.pop("env", None) or os.environ), "HOME": pwd.getpwuid(ids[0]).pw_dir}
    return {**popen, "user": ids[0], "group": ids[1], "extra_groups": [], "env": env}


def give_to_service_user(*paths: Path) -> None:
    ids = service_user_ids()
    if ids is not None:
        for path in paths:
            os.chown(path, *ids)


def run(
    command: Sequence[str | os.PathLike[str]],
    *,
    service_user: bool = False,
    timeout: float = 120.0,
    **popen: Any,
) -> str:
    """Run a command to completion and return its output; raise with its output on failure."""
    if service_user:
        popen = as_service_user(**popen)
    result = subprocess.run(
        [str(part) for part in command],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        **popen,
    )
    if result.returncode != 0:
        raise ClusterError(
            f"{Path(str(command[0])).name} failed ({result.returncode}):\n"
            f"{result.stdout[-2000:]}{result.stderr[-4000:]}"
        )
    output: str = result.stdout
    return output


def spawn(
    command: Sequence[str | os.PathLike[str]],
    log: Path,
    pid_file: Path,
    *,
    service_user: bool = False,
    **popen: Any,
) -> int:
    """Start a long-running server in a session of its own, logging to `log`; its pid."""
    if service_user:
        popen = as_service_user(**popen)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        process = subprocess.Popen(
            [str(part) for part in command],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **popen,
        )
    pid_file.write_text(f"{process.pid}\n")
    return process.pid


def read_pid(pid_file: Path) -> int | None:
    """The pid in the file (first line, as PostgreSQL and nginx write it) if it is alive."""
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if alive(pid) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (exited, not yet reaped by its parent) is not running.
    with contextlib.suppress(OSError):
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        return state != "Z"
    return True


def identities(pids: Iterable[int]) -> dict[int, str]:
    """Each running pid with its start time (clock ticks after boot): a pid can be given to a
    new process once the old one is gone, so the pair, not the number, names a process."""
    found = {}
    for pid in pids:
        started = _start_time(pid)
        if started is not None:
            found[pid] = started
    return found


def still_running(processes: Mapping[int, str]) -> list[int]:
    """Those of `processes` (from `identities`) that are still the same process, running."""
    return [pid for pid, started in processes.items() if alive(pid) and _start_time(pid) == started]


def _start_time(pid: int) -> str | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return fields[19]  # field 22 of proc_pid_stat(5); the split starts at field 3


def reap(pid: int) -> None:
    """Collect a child's exit status if it is ours (the tests start components in-process)."""
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_until(
    check: Callable[[], bool], timeout: float, what: str, log: Path | None = None
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise ClusterError(f"{what} within {timeout} s{tail(log)}")


def tail(log: Path | None, lines: int = 30) -> str:
    if log is None:
        return ""
    with contextlib.suppress(OSError):
        text = "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
        return f"\n--- {log} ---\n{text}"
    return ""


def children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


def stop_pid(pid: int, sig: signal.Signals, timeout: float, log: Path | None = None) -> None:
    """Send `sig` and wait for the process to end; past `timeout`, SIGKILL it and its children."""
    family = [pid, *children(pid)]
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reap(pid)
        if not alive(pid):
            break
        time.sleep(0.05)
    else:
        for member in family:
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)

    def ended() -> bool:
        reap(pid)
        return not alive(pid)

    wait_until(ended, 5.0, f"pid {pid} did not end", log)


def environment(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without any TASKWELL_* variable, plus `extra`: the
    cluster's settings come from config.py alone."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    return {**base, **extra}
