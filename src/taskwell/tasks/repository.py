"""SQL for tasks: owner-scoped, built with SQLAlchemy Core, hot reads prepared once."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.db.prepared import PreparedQuery
from taskwell.db.types import UTCDateTime
from taskwell.tasks.models import TaskStatus, tasks
from taskwell.tasks.schemas import TASK_FIELDS, Task

COLUMNS = tuple(tasks.c[name] for name in TASK_FIELDS)
SORTABLE: dict[str, sa.Column[Any]] = {
    "created_at": tasks.c.created_at,
    "updated_at": tasks.c.updated_at,
    "due_at": tasks.c.due_at,
    "priority": tasks.c.priority,
    "position": tasks.c.position,
}
_OWNER = sa.bindparam("owner", type_=sa.Uuid)
_ID = sa.bindparam("task_id", type_=sa.Uuid)


@dataclass(frozen=True, slots=True)
class ListShape:
    """Everything about a list query but its values: one prepared statement per shape."""

    statuses: int
    priorities: int
    text: bool
    due_before: bool
    due_after: bool
    sort: str
    descending: bool
    # None: first page; True/False: a cursor whose sort value is / is not NULL.
    cursor_null: bool | None


@dataclass(frozen=True, slots=True)
class ListQuery:
    owner_id: uuid.UUID
    statuses: tuple[str, ...] = ()
    priorities: tuple[int, ...] = ()
    text: str | None = None
    due_before: datetime | None = None
    due_after: datetime | None = None
    sort: str = "created_at"
    descending: bool = False
    cursor_value: Any = None
    cursor_id: uuid.UUID | None = None
    limit: int = 50

    def cache_key(self) -> str:
        """Everything but the owner (the cache bucket is per owner), hashed."""
        parts = (
            self.statuses,
            self.priorities,
            self.text,
            self.due_before,
            self.due_after,
            self.sort,
            self.descending,
            self.cursor_value,
            self.cursor_id,
            self.limit,
        )
        raw = orjson.dumps(parts, default=str, option=orjson.OPT_PASSTHROUGH_DATETIME)
        return hashlib.blake2b(raw, digest_size=16).hexdigest()

    def shape(self) -> ListShape:
        return ListShape(
            statuses=len(self.statuses),
            priorities=len(self.priorities),
            text=self.text is not None,
            due_before=self.due_before is not None,
            due_after=self.due_after is not None,
            sort=self.sort,
            descending=self.descending,
            cursor_null=None if self.cursor_id is None else self.cursor_value is None,
        )

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"owner": self.owner_id, "limit": self.limit + 1}
        params.update({f"status_{i}": s for i, s in enumerate(self.statuses)})
        params.update({f"priority_{i}": p for i, p in enumerate(self.priorities)})
        if self.text is not None:
            escaped = self.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params["text"] = f"%{escaped}%"
        params["due_before"] = self.due_before
        params["due_after"] = self.due_after
        params["cursor_value"] = self.cursor_value
        params["cursor_id"] = self.cursor_id
        return params


def _keyset(shape: ListShape) -> sa.ColumnElement[bool]:
    """Rows after the cursor in (sort column, id) order, NULLs last in both directions."""
    column = SORTABLE[shape.sort]
    after_id = sa.bindparam("cursor_id", type_=sa.Uuid)
    beyond_id = tasks.c.id < after_id if shape.descending else tasks.c.id > after_id
    if shape.cursor_null:
        return sa.and_(column.is_(None), beyond_id)
    value = sa.bindparam("cursor_value", type_=column.type)
    beyond = column < value if shape.descending else column > value
    condition = sa.or_(beyond, sa.and_(column == value, beyond_id))
    if column.nullable:
        condition = sa.or_(condition, column.is_(None))
    return condition


def build_list(shape: ListShape) -> sa.Select[Any]:
    t = tasks
    stmt = sa.select(*COLUMNS).where(t.c.owner_id == _OWNER)
    if shape.statuses:
        stmt = stmt.where(
            t.c.status.in_([sa.bindparam(f"status_{i}") for i in range(shape.statuses)])
        )
    if shape.priorities:
        stmt = stmt.where(
            t.c.priority.in_([sa.bindparam(f"priority_{i}") for i in range(shape.priorities)])
        )
    if shape.text:
        pattern = sa.bindparam("text", type_=sa.String)
        stmt = stmt.where(
            sa.or_(
                t.c.title.ilike(pattern, escape="\\"), t.c.description.ilike(pattern, escape="\\")
            )
        )
    if shape.due_before:
        stmt = stmt.where(t.c.due_at < sa.bindparam("due_before", type_=UTCDateTime))
    if shape.due_after:
        stmt = stmt.where(t.c.due_at >= sa.bindparam("due_after", type_=UTCDateTime))
    if shape.cursor_null is not None:
        stmt = stmt.where(_keyset(shape))
    column = SORTABLE[shape.sort]
    order = column.desc() if shape.descending else column.asc()
    if column.nullable:
        order = order.nulls_last()
    tie = t.c.id.desc() if shape.descending else t.c.id.asc()
    return stmt.order_by(order, tie).limit(sa.bindparam("limit", type_=sa.Integer))


class TaskRepository:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._get = db.prepare(
            sa.select(*COLUMNS).where(tasks.c.id == _ID, tasks.c.owner_id == _OWNER)
        )
        self._version = db.prepare(
            sa.select(tasks.c.version).where(tasks.c.id == _ID, tasks.c.owner_id == _OWNER)
        )
        self._prepared_list = lru_cache(maxsize=512)(self._prepare_list)

    def _prepare_list(self, shape: ListShape) -> PreparedQuery:
        return self._db.prepare(build_list(shape))

    async def get(self, owner_id: uuid.UUID, task_id: uuid.UUID) -> Sequence[Any] | None:
        return await self._db.fetch_one(
            self._get, {"owner": owner_id, "task_id": task_id}, reader=owner_id
        )

    async def current_version(self, owner_id: uuid.UUID, task_id: uuid.UUID) -> int | None:
        # After a write missed: from the primary, which has what the write saw.
        row = await self._db.fetch_one(self._version, {"owner": owner_id, "task_id": task_id})
        return int(row[0]) if row else None

    async def list(self, query: ListQuery) -> Sequence[Sequence[Any]]:
        return await self._db.fetch(
            self._prepared_list(query.shape()), query.params(), reader=query.owner_id
        )

    async def insert(
        self,
        conn: AsyncConnection,
        *,
        owner_id: uuid.UUID,
        values: dict[str, Any],
        now: datetime,
    ) -> Task:
        t = tasks
        position = values.get("position")
        if position is None:
            last = sa.select(sa.func.coalesce(sa.func.max(t.c.position), 0.0) + 1024.0).where(
                t.c.owner_id == owner_id
            )
            position = (await conn.execute(last)).scalar_one()
        status = values.get("status", TaskStatus.todo)
        row = {
            "id": uuid.uuid4(),
            "owner_id": owner_id,
            "title": values["title"],
            "description": values.get("description", ""),
            "status": str(status),
            "priority": int(values.get("priority", 0)),
            "due_at": due_at.astimezone(UTC) if (due_at := values.get("due_at")) else None,
            "completed_at": now if status == TaskStatus.done else None,
            "position": float(position),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await conn.execute(sa.insert(t).values(**row))
        return Task(**{name: row[name] for name in TASK_FIELDS})

    async def update(
        self,
        conn: AsyncConnection,
        *,
        owner_id: uuid.UUID,
        task_id: uuid.UUID,
        changes: dict[str, Any],
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> Task | None:
        """One atomic UPDATE; None when the task is missing or its version did not match."""
        t = tasks
        values: dict[str, Any] = dict(changes)
        if "status" in values:
            values["status"] = str(values["status"])
            values["completed_at"] = (
                sa.func.coalesce(t.c.completed_at, sa.literal(now, UTCDateTime))
                if values["status"] == TaskStatus.done
                else None
            )
        if "priority" in values:
            values["priority"] = int(values["priority"])
        stmt = (
            sa.update(t)
            .where(t.c.id == task_id, t.c.owner_id == owner_id)
            .values(**values, version=t.c.version + 1, updated_at=now)
            .returning(*COLUMNS)
        )
        if expected_versions is not None:
            stmt = stmt.where(t.c.version.in_(sorted(expected_versions)))
        row = (await conn.execute(stmt)).first()
        if row is None:
            return None
        # SQLite's RETURNING hands back REAL values before column affinity: 1024 not 1024.0.
        task = Task(*row)
        return replace(task, position=float(task.position))

    async def delete(
        self,
        conn: AsyncConnection,
        *,
        owner_id: uuid.UUID,
        task_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
    ) -> bool:
        t = tasks
        stmt = sa.delete(t).where(t.c.id == task_id, t.c.owner_id == owner_id)
        if expected_versions is not None:
            stmt = stmt.where(t.c.version.in_(sorted(expected_versions)))
        result = await conn.execute(stmt)
        return bool(result.rowcount)
