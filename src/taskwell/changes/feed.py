"""Writing and reading the change feed, with tokens that never skip a change.

Sequence numbers alone do not give that: on PostgreSQL two transactions may take seq 7 and 8
and commit 8 first; a reader who saw 8 and moved its token past it would never see 7. So on
PostgreSQL each row also holds its transaction's id, and a token is a *watermark* W taken from
`pg_snapshot_xmin(pg_current_snapshot())`: every transaction with an id below W has finished
(committed or rolled back) when W is read. A sync returns the rows with lo <= txid < W, in
(txid, seq) order, and the next one starts at W. A transaction still running at that moment
has an id >= W, so its rows come in a later sync: late, never lost.

On SQLite writers take turns (BEGIN IMMEDIATE), so a row's seq is its commit order and the
watermark is the next seq.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.models import changes
from taskwell.errors import DomainError, InvalidCursor

UPSERT, DELETE = "upsert", "delete"
# Called after a change commits, with everyone who can see it (TaskService.changed_for): their
# cached reads go, replicas wait for it, their open event streams look.
Changed = Callable[[Iterable[uuid.UUID]], Awaitable[None]]
# "reminder": a due reminder, addressed to its user (the worker, reminders/delivery.py).
ENTITIES = ("task", "project", "section", "comment", "label", "reminder")
_TOKEN_MAX = 256
_BIGINT = 2**63  # transaction ids and seq are signed 64-bit in the database


class SyncExpired(DomainError):
    slug, title, status = "sync-expired", "The sync token is older than the change history", 410


@dataclass(frozen=True, slots=True)
class Token:
    """Changes from `low` on (and after `after`, a (key, seq) inside the window) are still to
    be sent; `high` is the window's end while a window is being paged through."""

    low: int
    issued: float
    after: tuple[int, int] | None = None
    high: int | None = None

    def encode(self) -> str:
        raw = orjson.dumps([1, self.low, self.issued, self.after, self.high])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Token:
        if len(text) > _TOKEN_MAX:
            raise InvalidCursor("The sync token is too long.")
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            version, low, issued, after, high = orjson.loads(raw)
            if version != 1 or not isinstance(low, int) or not isinstance(issued, float | int):
                raise ValueError
            if after is not None:
                key, seq = after
                if not isinstance(key, int) or not isinstance(seq, int):
                    raise ValueError
                after = (key, seq)
            if high is not None and not isinstance(high, int):
                raise ValueError
            if not 0 <= low < _BIGINT or (high is not None and not low <= high < _BIGINT):
                raise ValueError
            if after is not None and not all(0 <= part < _BIGINT for part in after):
                raise ValueError
        except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError) as exc:
            raise InvalidCursor("This is not a sync token from this server.") from exc
        return cls(low, float(issued), after, high)


@dataclass(frozen=True, slots=True)
class Row:
    key: int
    seq: int
    entity: str
    entity_id: uuid.UUID
    op: str
    project_id: uuid.UUID | None


class ChangeFeed:
    def __init__(self, dialect: str) -> None:
        self._pg = dialect == "postgresql"
        self._key = changes.c.txid if self._pg else changes.c.seq

    async def record(
        self,
        conn: AsyncConnection,
        entity: str,
        ids: Iterable[uuid.UUID],
        op: str,
        *,
        now: datetime,
        project_id: uuid.UUID | None = None,
        user_id: uuid.UUID | None = None,
    ) -> None:
        """In the writer's transaction: these entities changed, for the members of project_id
        (or for user_id alone)."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return
        assert entity in ENTITIES
        assert op in (UPSERT, DELETE)
        assert project_id is not None or user_id is not None
        txid = None
        if self._pg:
            found = await conn.execute(sa.text("SELECT pg_current_xact_id()::text::bigint"))
            txid = int(found.scalar_one())
        await conn.execute(
            sa.insert(changes),
            [
                {
                    "txid": txid,
                    "project_id": project_id,
                    "user_id": user_id,
                    "entity": entity,
                    "entity_id": entity_id,
                    "op": op,
                    "at": now,
                }
                for entity_id in ids
            ],
        )

    async def watermark(self, conn: AsyncConnection) -> int:
        return (await self.watermark_state(conn))[0]

    async def watermark_state(self, conn: AsyncConnection) -> tuple[int, int]:
        """The watermark, and where it will be once every transaction running now has ended
        (PostgreSQL: the snapshot's xmax). While the two differ, a change that has just
        committed may still be held back behind an older transaction that is running.

        PostgreSQL's transaction ids are the whole server's: only transactions of *this*
        database can write our feed, so those of other databases on the same server (another
        application, a test run beside ours) must not hold the window back. The snapshot is
        taken first and the sessions listed after it, so a transaction of ours that was running
        at the snapshot is either still listed, or has ended (and its rows are readable) by the
        time the rows are read. Every writer of the feed runs as the app's role, whose sessions
        the app may see in pg_stat_activity."""
        if not self._pg:
            found = await conn.execute(sa.select(sa.func.coalesce(sa.func.max(changes.c.seq), 0)))
            mark = int(found.scalar_one()) + 1
            return mark, mark
        snapshot = (
            await conn.execute(
                sa.text(
                    "SELECT pg_snapshot_xmax(s)::text::bigint,"
                    " array(SELECT x::text::bigint FROM pg_snapshot_xip(s) AS x)"
                    " FROM pg_current_snapshot() AS s"
                )
            )
        ).one()
        settles = int(snapshot[0])
        running: list[int] = list(snapshot[1] or [])
        if not running:
            return settles, settles
        await conn.execute(sa.text("SELECT pg_stat_clear_snapshot()"))
        ours = await conn.execute(
            sa.text(
                "SELECT backend_xid::text::bigint FROM pg_stat_activity"
                " WHERE datname = current_database() AND backend_xid IS NOT NULL"
            )
        )
        # backend_xid is the 32-bit id; the snapshot's are 64-bit (epoch and id).
        low_ids = {int(xid) for xid in ours.scalars()}
        held = [xid for xid in running if xid & 0xFFFFFFFF in low_ids]
        return (min(held) if held else settles), settles

    async def read(
        self,
        conn: AsyncConnection,
        *,
        visible_projects: sa.Select[Any],
        user_id: uuid.UUID,
        low: int,
        high: int,
        after: tuple[int, int] | None,
        limit: int,
    ) -> Sequence[Row]:
        """Rows in [low, high) after `after`, visible to the user, in commit order."""
        c, key = changes, self._key
        stmt = sa.select(key, c.c.seq, c.c.entity, c.c.entity_id, c.c.op, c.c.project_id).where(
            key >= low,
            key < high,
            sa.or_(c.c.project_id.in_(visible_projects), c.c.user_id == user_id),
        )
        if after is not None:
            stmt = stmt.where(sa.tuple_(key, c.c.seq) > sa.tuple_(*after))
        stmt = stmt.order_by(key, c.c.seq).limit(limit)
        return [Row(*row) for row in await conn.execute(stmt)]

    async def purge(self, conn: AsyncConnection, before: datetime) -> int:
        """Rows older than `before`, but never the newest row: on SQLite the watermark is the
        next seq, and an emptied table would hand out seq numbers again from 1, below tokens
        already given out (their next sync would skip the new changes)."""
        newest = sa.select(sa.func.max(changes.c.seq)).scalar_subquery()
        result = await conn.execute(
            sa.delete(changes).where(changes.c.at < before, changes.c.seq < newest)
        )
        return int(result.rowcount or 0)
