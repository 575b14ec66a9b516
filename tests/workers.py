"""What each pytest-xdist worker gets to itself, so workers never meet on shared servers.

`./scripts/test.sh` runs the suite on TASKWELL_TEST_WORKERS processes (pytest-xdist, whole files
per worker). Every worker is a separate pytest session with its own PostgreSQL database (the
configured one's name with `_gw<n>` appended, created when missing), its own Redis database
(the configured number minus n, modulo 16) and its own slice of the loopback ports the tests
hand out (16000-32000, split evenly). Without xdist (a plain `pytest`) nothing changes: the
configured database, Redis database and the whole port range.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

import sqlalchemy as sa

# Set by pytest-xdist in each worker's environment before any conftest is imported.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...; "" without xdist
INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
COUNT = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))

# Loopback ports the tests hand out: below the kernel's ephemeral range (32768+, see
# ../shared/INFRA-NOTES.md), above the well-known services.
PORTS_LOW, PORTS_HIGH = 16_000, 32_000


def port_range() -> tuple[int, int]:
    """This worker's slice [low, high) of the test port range."""
    size = (PORTS_HIGH - PORTS_LOW) // COUNT
    low = PORTS_LOW + INDEX * size
    return low, low + size


def database_url(url: str) -> str:
    """This worker's PostgreSQL database on the server of `url` (the URL itself without xdist)."""
    if not url or not WORKER:
        return url
    parsed = sa.make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


def redis_url(url: str) -> str:
    """This worker's Redis database number on the server of `url`."""
    if not url or not WORKER:
        return url
    parts = urlsplit(url)
    number = parts.path.strip("/")
    first = int(number) if number.isdigit() else 0
    return urlunsplit(parts._replace(path=f"/{(first - INDEX) % 16}"))


async def ensure_database(url: str) -> None:
    """Create this worker's database if the server has none of that name yet."""
    from sqlalchemy.ext.asyncio import create_async_engine

    if not url or not WORKER:
        return
    name = sa.make_url(url).database
    admin = create_async_engine(
        sa.make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with admin.connect() as conn:
            exists = await conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if exists is None:
                await conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
