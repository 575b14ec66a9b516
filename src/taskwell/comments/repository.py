"""SQL for comments: pages read prepared, writes inside the service's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.comments.models import comments
from taskwell.comments.schemas import FIELDS
from taskwell.db.engine import Database
from taskwell.db.types import UTCDateTime

_C = comments
COLUMNS = tuple(_C.c[name] for name in FIELDS)
_TASK = sa.bindparam("task_id", type_=sa.Uuid)


def _oldest_first(after_cursor: bool) -> sa.Select[Any]:
    """One task's comments, oldest first; after a cursor, those newer than its (time, id)."""
    stmt = sa.select(*COLUMNS).where(_C.c.task_id == _TASK)
    if after_cursor:
        at = sa.bindparam("cursor_at", type_=UTCDateTime)
        last_id = sa.bindparam("cursor_id", type_=sa.Uuid)
        stmt = stmt.where(
            sa.or_(_C.c.created_at > at, sa.and_(_C.c.created_at == at, _C.c.id > last_id))
        )
    order = (_C.c.created_at.asc(), _C.c.id.asc())
    return stmt.order_by(*order).limit(sa.bindparam("limit", type_=sa.Integer))


class CommentRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._first_page = db.prepare(_oldest_first(after_cursor=False))
        self._next_page = db.prepare(_oldest_first(after_cursor=True))

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

    async def insert(self, conn: AsyncConnection, row: dict[str, Any]) -> None:
        await conn.execute(sa.insert(_C).values(**row))

    async def lock(
        self, conn: AsyncConnection, task_id: uuid.UUID, comment_id: uuid.UUID
    ) -> Sequence[Any] | None:
        """The comment, if it is on this task, locked until the transaction ends.

        SQLite renders no FOR UPDATE: its BEGIN IMMEDIATE already serialises writers."""
        stmt = (
            sa.select(*COLUMNS)
            .where(_C.c.id == comment_id, _C.c.task_id == task_id)
            .with_for_update()
        )
        return (await conn.execute(stmt)).first()

    async def update_body(
        self, conn: AsyncConnection, comment_id: uuid.UUID, body: str, now: datetime
    ) -> Sequence[Any]:
        stmt = (
            sa.update(_C)
            .where(_C.c.id == comment_id)
            .values(body=body, version=_C.c.version + 1, updated_at=now)
            .returning(*COLUMNS)
        )
        return (await conn.execute(stmt)).one()

    async def delete(self, conn: AsyncConnection, comment_id: uuid.UUID) -> None:
        await conn.execute(sa.delete(_C).where(_C.c.id == comment_id))
