"""When the database drops its connections the API answers, never with a 500."""

from __future__ import annotations

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from taskwell.settings import Settings
from tests.conftest import PG_URL, Account


async def _terminate_other_backends(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            result = await conn.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"
                )
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_reads_and_writes_survive_dropped_connections(
    client: httpx.AsyncClient, alice: Account, settings: Settings
) -> None:
    if settings.is_sqlite:
        pytest.skip("connections are dropped by the PostgreSQL server")
    for i in range(3):
        created = await client.post("/api/v1/tasks", json={"title": f"t{i}"}, headers=alice.headers)
        assert created.status_code == 201
    # On the server itself: through PgBouncer the terminating session could be handed the one
    # server connection the app had used, and find no other to end.
    assert await _terminate_other_backends(PG_URL) >= 1

    listed = await client.get("/api/v1/tasks", headers=alice.headers)
    assert listed.status_code == 200
    assert len(listed.json()["items"]) == 3

    statuses = []
    for i in range(3):
        response = await client.post(
            "/api/v1/tasks", json={"title": f"after {i}"}, headers=alice.headers
        )
        statuses.append(response.status_code)
        if response.status_code == 503:
            assert response.headers["retry-after"] == "1"
            assert response.json()["type"] == "urn:taskwell:problem:database-unavailable"
    assert 500 not in statuses
    assert statuses[-1] == 201
