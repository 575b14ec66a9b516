"""Scratch PostgreSQL databases on the test server, made and dropped by the test that needs one
(the test URL's own database is never touched)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from tests.conftest import PG_URL


async def admin(statement: str) -> None:
    """One statement on the server's maintenance database, outside any transaction."""
    engine = create_async_engine(
        sa.make_url(PG_URL).set(database="postgres"), isolation_level="AUTOCOMMIT"
    )
    try:
        async with engine.connect() as conn:
            await conn.execute(sa.text(statement))
    finally:
        await engine.dispose()


@contextmanager
def scratch_database(prefix: str) -> Iterator[str]:
    """A new, empty database named `prefix` plus a random part; its URL; dropped afterwards."""
    name = f"{prefix}{uuid.uuid4().hex[:12]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
