"""Task rules: ownership, versions, idempotent creation, listing with cursors."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from taskwell.db import idempotency
from taskwell.db.engine import Database
from taskwell.db.pagination import decode_cursor, encode_cursor
from taskwell.db.types import utcnow
from taskwell.errors import (
    Conflict,
    InvalidCursor,
    NotFound,
    PreconditionFailed,
    ValidationFailed,
)
from taskwell.http.conditional import version_etag
from taskwell.settings import Settings
from taskwell.tasks.models import Priority
from taskwell.tasks.repository import SORTABLE, ListQuery, TaskRepository
from taskwell.tasks.schemas import TASK_FIELDS, Task, TaskCreate, dumps, task_dict

_IDEMPOTENCY_SCOPE = "POST /tasks"
_SORT_KINDS: dict[str, type] = {
    "created_at": datetime,
    "updated_at": datetime,
    "due_at": datetime,
    "priority": int,
    "position": float,
}
_SORT_INDEX = {name: TASK_FIELDS.index(name) for name in SORTABLE}
_PRIORITIES = frozenset(int(p) for p in Priority)


class TaskNotFound(NotFound):
    slug, title, status = "task-not-found", "Task not found", 404


class VersionConflict(PreconditionFailed):
    slug, title, status = "version-mismatch", "The task has changed since you read it", 412


@dataclass(frozen=True, slots=True)
class Created:
    status_code: int
    body: bytes
    replayed: bool


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[tuple[Any, ...]]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class ListFilters:
    statuses: tuple[str, ...]
    priorities: tuple[int, ...]
    text: str | None
    due_before: datetime | None
    due_after: datetime | None
    sort: str
    cursor: str | None
    limit: int | None


class TaskService:
    def __init__(self, settings: Settings, db: Database, repo: TaskRepository) -> None:
        self._db = db
        self._repo = repo
        self._idempotency_ttl = settings.idempotency_ttl_seconds
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max

    async def get(self, owner_id: uuid.UUID, task_id: uuid.UUID) -> tuple[Any, ...]:
        row = await self._repo.get(owner_id, task_id)
        if row is None:
            raise TaskNotFound("No task with this id.")
        return row

    async def list(self, owner_id: uuid.UUID, filters: ListFilters) -> Page:
        limit = self._page_default if filters.limit is None else filters.limit
        if not 1 <= limit <= self._page_max:
            raise ValidationFailed(
                "limit",
                f"limit must be between 1 and {self._page_max}.",
                location="query",
                code="range",
            )
        descending = filters.sort.startswith("-")
        sort = filters.sort.removeprefix("-")
        cursor_value: Any = None
        cursor_id: uuid.UUID | None = None
        if filters.cursor is not None:
            cursor = decode_cursor(filters.cursor, sort=filters.sort, value_kind=_SORT_KINDS[sort])
            cursor_value, cursor_id = _possible_sort_value(sort, cursor.value), cursor.last_id
        query = ListQuery(
            owner_id=owner_id,
            statuses=tuple(sorted(set(filters.statuses))),
            priorities=tuple(sorted(set(filters.priorities))),
            text=filters.text,
            due_before=filters.due_before,
            due_after=filters.due_after,
            sort=sort,
            descending=descending,
            cursor_value=cursor_value,
            cursor_id=cursor_id,
            limit=limit,
        )
        rows = await self._repo.list(query)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            next_cursor = encode_cursor(filters.sort, last[_SORT_INDEX[sort]], last[0])
        return Page(rows, next_cursor)

    async def create(
        self, owner_id: uuid.UUID, payload: TaskCreate, idempotency_key: str | None
    ) -> Created:
        values = payload.model_dump(exclude_unset=True)
        if idempotency_key is None:
            async with self._db.transaction() as conn:
                task = await self._repo.insert(conn, owner_id=owner_id, values=values, now=utcnow())
            return Created(201, dumps(task_dict(_row(task))), replayed=False)
        key = idempotency.validate_key(idempotency_key)
        fingerprint = idempotency.fingerprint(payload.model_dump(mode="json"))
        # A concurrent request with the same key fails on the key's primary key, rolls back
        # its task, and on the next pass finds the first request's stored response.
        for _attempt in range(3):
            now = utcnow()
            try:
                async with self._db.transaction() as conn:
                    stored = await idempotency.find(
                        conn,
                        owner_id=owner_id,
                        scope=_IDEMPOTENCY_SCOPE,
                        key=key,
                        request_hash=fingerprint,
                        not_before=idempotency.expiry_cutoff(now, self._idempotency_ttl),
                    )
                    if stored is not None:
                        return Created(stored.status_code, stored.body, replayed=True)
                    task = await self._repo.insert(conn, owner_id=owner_id, values=values, now=now)
                    body = dumps(task_dict(_row(task)))
                    await idempotency.save(
                        conn,
                        owner_id=owner_id,
                        scope=_IDEMPOTENCY_SCOPE,
                        key=key,
                        request_hash=fingerprint,
                        status_code=201,
                        body=body,
                        now=now,
                    )
                return Created(201, body, replayed=False)
            except IntegrityError:
                continue
        raise Conflict("A request with this Idempotency-Key is still being processed; retry.")

    async def update(
        self,
        owner_id: uuid.UUID,
        task_id: uuid.UUID,
        changes: dict[str, Any],
        expected_versions: frozenset[int] | None,
    ) -> tuple[Any, ...]:
        if not changes:
            row = await self.get(owner_id, task_id)
            if expected_versions is not None and row[TASK_FIELDS.index("version")] not in (
                expected_versions
            ):
                raise self._conflict(int(row[TASK_FIELDS.index("version")]))
            return row
        async with self._db.transaction() as conn:
            task = await self._repo.update(
                conn,
                owner_id=owner_id,
                task_id=task_id,
                changes=changes,
                expected_versions=expected_versions,
                now=utcnow(),
            )
        if task is not None:
            return _row(task)
        await self._raise_missing_or_conflict(owner_id, task_id)
        raise AssertionError("unreachable")

    async def delete(
        self, owner_id: uuid.UUID, task_id: uuid.UUID, expected_versions: frozenset[int] | None
    ) -> None:
        async with self._db.transaction() as conn:
            deleted = await self._repo.delete(
                conn, owner_id=owner_id, task_id=task_id, expected_versions=expected_versions
            )
        if not deleted:
            await self._raise_missing_or_conflict(owner_id, task_id)

    async def _raise_missing_or_conflict(self, owner_id: uuid.UUID, task_id: uuid.UUID) -> None:
        current = await self._repo.current_version(owner_id, task_id)
        if current is None:
            raise TaskNotFound("No task with this id.")
        raise self._conflict(current)

    @staticmethod
    def _conflict(current: int) -> VersionConflict:
        return VersionConflict(
            "The task was changed by someone else; fetch it, re-apply your change, and send "
            "If-Match with its new ETag.",
            extra={"current_version": current},
            headers={"ETag": version_etag(current)},
        )


def _possible_sort_value(sort: str, value: Any) -> Any:
    """The cursor's value if some task could hold it; a forged one is refused, not queried.

    Out of range it would overflow the column's type (SMALLINT, or UTC near year 1 or 9999)
    and fail in the driver instead.
    """
    if value is None and not SORTABLE[sort].nullable:
        raise InvalidCursor("The cursor holds an empty value this sort never has.")
    if sort == "priority" and value not in _PRIORITIES:
        raise InvalidCursor("The cursor holds a priority that does not exist.")
    if isinstance(value, datetime):
        try:
            return value.astimezone(UTC)
        except OverflowError as exc:
            raise InvalidCursor("The cursor holds a time out of range.") from exc
    return value


def _row(task: Task) -> tuple[Any, ...]:
    return tuple(getattr(task, name) for name in TASK_FIELDS)
