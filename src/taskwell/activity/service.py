"""Task history: entries written inside each change's own transaction, read by the members."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.activity.repository import FIELDS, ActivityRepository
from taskwell.db.engine import Database
from taskwell.db.pagination import decode_time_cursor, encode_cursor, page_size
from taskwell.http.json_body import dumps
from taskwell.projects.access import ProjectAccess
from taskwell.projects.models import READ
from taskwell.settings import Settings

ACTIONS = frozenset(
    {
        "created",
        "updated",
        "moved",
        "completed",
        "reopened",
        "deleted",
        "restored",
        "commented",
        "comment_edited",
        "comment_deleted",
    }
)
# Cursors name their list, so one taken from another list is refused rather than misread.
_SORT = "activity:-created_at"
_AT = FIELDS.index("created_at")


class ActivityLog:
    def __init__(self, db: Database, access: ProjectAccess, settings: Settings) -> None:
        self._access = access
        self._repo = ActivityRepository(db)
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max

    async def record(
        self,
        conn: AsyncConnection,
        *,
        task_id: uuid.UUID,
        actor_id: uuid.UUID | None,
        action: str,
        changes: dict[str, Any],
        now: datetime,
    ) -> None:
        """One entry, in the caller's transaction: it commits or rolls back with the change.

        `changes` maps each field to [old, new]; UUIDs and datetimes are stored as text."""
        if action not in ACTIONS:
            raise ValueError(f"unknown activity action {action!r}")
        row = {
            "id": uuid.uuid4(),
            "task_id": task_id,
            "actor_id": actor_id,
            "action": action,
            "changes": dumps(changes).decode(),
            "created_at": now,
        }
        await self._repo.insert(conn, row)

    async def list(
        self, user_id: uuid.UUID, task_id: uuid.UUID, cursor: str | None, limit: int | None
    ) -> bytes:
        """One page, newest first, as the JSON the API sends: {"items", "next_cursor"}."""
        size = page_size(limit, default=self._page_default, maximum=self._page_max)
        after = decode_time_cursor(cursor, sort=_SORT) if cursor is not None else None
        await self._access.task(None, user_id, task_id, READ, "read this task's activity")
        rows = await self._repo.page(task_id, after, size + 1, reader=user_id)
        next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            next_cursor = encode_cursor(_SORT, rows[-1][_AT], rows[-1][0])
        return dumps({"items": [_entry(row) for row in rows], "next_cursor": next_cursor})


def _entry(row: Any) -> dict[str, Any]:
    entry = dict(zip(FIELDS, row, strict=True))
    # Stored as the JSON this module wrote: sent as it is, not parsed and encoded again.
    entry["changes"] = orjson.Fragment(entry["changes"])
    return entry
