"""Housekeeping removes only what has expired: idempotency keys, ended sessions, old audit."""

from __future__ import annotations

from datetime import timedelta

import httpx
import sqlalchemy as sa
from fastapi import FastAPI

from taskwell import maintenance
from taskwell.audit.models import audit_events
from taskwell.auth.models import auth_sessions
from taskwell.db.idempotency import idempotency_keys
from taskwell.db.types import utcnow
from tests.conftest import Account


async def _count(app: FastAPI, table: sa.Table) -> int:
    async with app.state.context.db.transaction() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def test_expired_rows_are_purged_and_live_ones_kept(
    app: FastAPI, client: httpx.AsyncClient, alice: Account
) -> None:
    for key in ("old", "new"):
        response = await client.post(
            "/api/v1/tasks",
            json={"title": key},
            headers={**alice.headers, "Idempotency-Key": key},
        )
        assert response.status_code == 201
    await client.post("/api/v1/auth/logout", headers=alice.headers)  # one ended session
    ctx = app.state.context
    long_ago = utcnow() - timedelta(days=400)
    async with ctx.db.transaction() as conn:
        await conn.execute(
            sa.update(idempotency_keys)
            .where(idempotency_keys.c.key == "old")
            .values(created_at=long_ago)
        )
        await conn.execute(
            sa.update(auth_sessions)
            .where(auth_sessions.c.revoked_at.is_not(None))
            .values(revoked_at=long_ago)
        )
        await conn.execute(
            sa.update(audit_events)
            .where(audit_events.c.event == "user.registered")
            .values(at=long_ago)
        )
    audit_before = await _count(app, audit_events)

    removed = await maintenance.run_once(ctx)

    assert removed["idempotency_keys"] == 1
    assert removed["audit_events"] == 1
    assert await _count(app, idempotency_keys) == 1
    assert await _count(app, audit_events) == audit_before - 1
    if ctx.redis is None:  # sessions live in the database on the embedded default
        assert removed["sessions"] == 1
        assert await _count(app, auth_sessions) == 0
