"""Record security events and read them back; verify the hash chain."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.audit.models import GENESIS, audit_chain, audit_events
from taskwell.auth.session_guard import Principal
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.http.client_context import CURRENT_CLIENT
from taskwell.observability.logging import redact_secrets

_E = audit_events


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    at: datetime
    event: str
    actor_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    target: str | None
    ip: str
    user_agent: str
    request_id: str
    details: dict[str, Any]


@dataclass(frozen=True, slots=True)
class AuditQuery:
    subject_id: uuid.UUID | None  # None: every account's events (admins only)
    event: str | None
    since: datetime | None
    until: datetime | None
    before_id: int | None
    limit: int


def _digest(prev_hash: str, row: dict[str, Any]) -> str:
    content = orjson.dumps(
        [
            prev_hash,
            row["at"].isoformat(),
            row["event"],
            str(row["actor_id"] or ""),
            str(row["subject_id"] or ""),
            row["target"] or "",
            row["ip"],
            row["user_agent"],
            row["request_id"],
            row["details"],
        ]
    )
    return hashlib.sha256(content).hexdigest()


class AuditLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        event: str,
        *,
        actor: Principal | None = None,
        subject_id: uuid.UUID | None = None,
        target: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        """Append one event. Details are scrubbed of anything that looks like a secret."""
        client = CURRENT_CLIENT.get()
        actor_id = actor.user_id if actor is not None else None
        clean = dict(redact_secrets(None, "", dict(details or {})))
        if actor is not None and actor.api_key_id is not None:
            clean["api_key_id"] = str(actor.api_key_id)
        row: dict[str, Any] = {
            "at": utcnow(),
            "event": event,
            "actor_id": actor_id,
            "subject_id": subject_id or actor_id,
            "target": target,
            "ip": client.ip[:64],
            "user_agent": client.user_agent[:512],
            "request_id": client.request_id[:128],
            "details": orjson.dumps(clean, option=orjson.OPT_SORT_KEYS).decode(),
        }
        async with self._db.transaction() as conn:
            prev_hash = await self._lock_head(conn)
            row["prev_hash"] = prev_hash
            row["hash"] = _digest(prev_hash, row)
            await conn.execute(sa.insert(_E).values(**row))
            await conn.execute(
                sa.update(audit_chain).where(audit_chain.c.id == 1).values(head=row["hash"])
            )

    @staticmethod
    async def _lock_head(conn: AsyncConnection) -> str:
        # FOR UPDATE serialises appends on PostgreSQL; SQLite writers are serial already.
        stmt = sa.select(audit_chain.c.head).where(audit_chain.c.id == 1)
        if conn.dialect.name != "sqlite":
            stmt = stmt.with_for_update()
        head = (await conn.execute(stmt)).scalar_one_or_none()
        if head is None:
            # The migration seeds the head; this only runs after someone emptied the table.
            insert = (
                sqlite_insert(audit_chain)
                if conn.dialect.name == "sqlite"
                else postgresql_insert(audit_chain)
            )
            await conn.execute(insert.values(id=1, head=GENESIS).on_conflict_do_nothing())
            head = (await conn.execute(stmt)).scalar_one()
        return str(head)

    async def events(self, query: AuditQuery) -> list[AuditEvent]:
        stmt = sa.select(_E).order_by(_E.c.id.desc()).limit(query.limit)
        if query.subject_id is not None:
            stmt = stmt.where(
                sa.or_(_E.c.subject_id == query.subject_id, _E.c.actor_id == query.subject_id)
            )
        if query.event is not None:
            stmt = stmt.where(_E.c.event == query.event)
        if query.since is not None:
            stmt = stmt.where(_E.c.at >= query.since)
        if query.until is not None:
            stmt = stmt.where(_E.c.at < query.until)
        if query.before_id is not None:
            stmt = stmt.where(_E.c.id < query.before_id)
        async with self._db.transaction() as conn:
            rows = (await conn.execute(stmt)).mappings().all()
        return [
            AuditEvent(
                id=row["id"],
                at=row["at"],
                event=row["event"],
                actor_id=row["actor_id"],
                subject_id=row["subject_id"],
                target=row["target"],
                ip=row["ip"],
                user_agent=row["user_agent"],
                request_id=row["request_id"],
                details=orjson.loads(row["details"]),
            )
            for row in rows
        ]

    async def verify(self) -> int | None:
        """The id of the first row whose hash does not follow, or None when the chain holds.

        Starts from the oldest row kept (older ones may have been purged by retention). The
        head in audit_chain must be a kept row's hash (or the link of a row appended while this
        runs); if not, the newest rows were deleted, and the answer is the id after the last
        row kept."""
        expected: str | None = None
        last_id: int | None = None
        async with self._db.transaction() as conn:
            # Read before the rows: any row appended meanwhile links back to this head.
            head = (
                await conn.execute(sa.select(audit_chain.c.head).where(audit_chain.c.id == 1))
            ).scalar_one_or_none()
            head_found = head is None
            result = await conn.stream(sa.select(_E).order_by(_E.c.id))
            async for row in result.mappings():
                if expected is not None and row["prev_hash"] != expected:
                    return int(row["id"])
                if _digest(row["prev_hash"], dict(row)) != row["hash"]:
                    return int(row["id"])
                head_found = head_found or head in (row["hash"], row["prev_hash"])
                expected = row["hash"]
                last_id = int(row["id"])
        if last_id is not None and not head_found:
            return last_id + 1
        return None

    async def purge(self, retention_days: int) -> int:
        cutoff = utcnow() - timedelta(days=retention_days)
        async with self._db.transaction() as conn:
            result = await conn.execute(sa.delete(_E).where(_E.c.at < cutoff))
        return int(result.rowcount)
