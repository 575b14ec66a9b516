"""SQL for task activity: one insert inside the writer's transaction, pages read prepared."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.activity.models import task_activity
from taskwell.db.engine import Database
from taskwell.db.types import UTCDateTime

_A = task_activity
FIELDS = ("id", "task_id", "actor_id", "action", "changes", "created_at")
_TASK = sa.bindparam("task_id", type_=sa.Uuid)


def _newest_first(after_cursor: bool) -> sa.Select[Any]:
    """One task's entries, newest first; after a cursor, those older than its (time, id)."""
    stmt = sa.select(*(_A.c[name] for name in FIELDS)).where(_A.c.task_id == _TASK)
    if after_cursor:
        at = sa.bindparam("cursor_at", type_=UTCDateTime)
        last_id = sa.bindparam("cursor_id", type_=sa.Uuid)
        stmt = stmt.where(
            sa.or_(_A.c.created_at < at, sa.and_(_A.c.created_at == at, _A.c.id < last_id))
        )
    order = (_A.c.created_at.desc(), _A.c.id.desc())
    return stmt.order_by(*order).limit(sa.bindparam("limit", type_=sa.Integer))


class ActivityRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._first_page = db.prepare(_newest_first(after_cursor=False))
        self._next_page = db.prepare(_newest_first(after_cursor=True))

    async def insert(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(_A).values(**row))

    async def page(
        self,
        task_id: uuid.UUID,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        *,
        reader: uuid.UUID,
    ) -> Sequence[Sequence[Any]]:
        params: dict[str, Any] = {"task_id": task_id, "limit": limit}
        if after is None:
            return await self._db.fetch(self._first_page, params, reader=reader)
        params["cursor_at"], params["cursor_id"] = after
        return await self._db.fetch(self._next_page, params, reader=reader)
