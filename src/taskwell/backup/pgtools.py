"""Finding and running PostgreSQL's client programs (pg_dump, pg_restore)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from taskwell.backup.errors import BackupError

# Debian and Ubuntu install each major version's programs here, side by side.
DEBIAN_ROOT = Path("/usr/lib/postgresql")
_VERSION = re.compile(r"\(PostgreSQL\) (\d+)")
_STDERR_LINES = 15


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    path: Path
    major: int


def find_tool(
    name: str,
    server_major: int,
    env: Mapping[str, str],
    *,
    search_path: str | None = None,
    debian_root: Path = DEBIAN_ROOT,
) -> Tool:
    """`name` on PATH, else from the newest /usr/lib/postgresql/<major>/bin; the first one
    whose major version is at least the server's (an older pg_dump refuses a newer server)."""
    candidates: list[Path] = []
    on_path = shutil.which(name, path=search_path)
    if on_path:
        candidates.append(Path(on_path))
    newest = _newest_debian_tool(name, debian_root)
    if newest is not None and newest not in candidates:
        candidates.append(newest)
    if not candidates:
        raise BackupError(
            f"{name} was not found on PATH nor in {debian_root}/<version>/bin; install the "
            f"PostgreSQL client programs, version {server_major} or newer "
            f"(Debian/Ubuntu: apt install postgresql-client-{server_major})"
        )
    too_old = []
    for path in candidates:
        major = tool_major(path, env)
        if major >= server_major:
            return Tool(name, path, major)
        too_old.append(f"{path} is version {major}")
    raise BackupError(
        f"{name} must be at least the server's major version ({server_major}), but "
        f"{'; '.join(too_old)}; install postgresql-client-{server_major} or newer"
    )


def tool_major(path: Path, env: Mapping[str, str]) -> int:
    """The major version `path --version` reports (run with the connection's environment:
    Debian's pg_wrapper picks a version from it)."""
    output = run(path, ["--version"], env).decode(errors="replace")
    match = _VERSION.search(output)
    if match is None:
        raise BackupError(f"cannot tell the version of {path}: it printed {output.strip()!r}")
    return int(match.group(1))


def run(
    program: Path,
    args: Sequence[str],
    env: Mapping[str, str],
    stdout: IO[bytes] | None = None,
) -> bytes:
    """Run a client program; its output (unless sent to `stdout`), or a BackupError quoting
    the end of its error output."""
    try:
        # An absolute path and an argument list: no shell, nothing interpolated.
        result = subprocess.run(  # noqa: S603
            [str(program), *args],
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=stdout if stdout is not None else subprocess.PIPE,
            stderr=subprocess.PIPE,
            check=False,
        )
    except OSError as exc:
        raise BackupError(f"cannot run {program}: {exc.strerror}") from exc
    if result.returncode != 0:
        errors = result.stderr.decode(errors="replace").strip().splitlines()[-_STDERR_LINES:]
        detail = "\n  ".join(errors) or "no error output"
        raise BackupError(f"{program.name} failed (exit {result.returncode}):\n  {detail}")
    return result.stdout or b""


def _newest_debian_tool(name: str, root: Path) -> Path | None:
    try:
        versions = [p for p in root.iterdir() if p.name.isdigit()]
    except OSError:
        return None
    for version in sorted(versions, key=lambda p: int(p.name), reverse=True):
        tool = version / "bin" / name
        if tool.is_file():
            return tool
    return None
