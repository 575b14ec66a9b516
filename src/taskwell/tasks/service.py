"""Task rules: ownership, versions, idempotent creation, listing with cursors."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
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
from taskwell.kv.cache import CachedReads
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
class TaskBody:
    """One task as the JSON the API sends, and its version (for the ETag)."""

    body: bytes
    version: int

    @classmethod
    def of(cls, body: bytes) -> TaskBody:
        return cls(body, int(orjson.loads(body)["version"]))


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
    def __init__(
        self,
        settings: Settings,
        db: Database,
        repo: TaskRepository,
        reads: CachedReads | None = None,
    ) -> None:
        self._db = db
        self._repo = repo
        self._reads = reads
        self._idempotency_ttl = settings.idempotency_ttl_seconds
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max

    async def get(self, owner_id: uuid.UUID, task_id: uuid.UUID) -> TaskBody:
        async def load() -> bytes:
            row = await self._repo.get(owner_id, task_id)
            if row is None:
                raise TaskNotFound("No task with this id.")
            return dumps(task_dict(row))

        body = await self._cached(owner_id, f"v:{task_id}", f"t:{task_id}", load)
        return TaskBody.of(body)

    async def list(self, owner_id: uuid.UUID, filters: ListFilters) -> bytes:
        """One page as the JSON the API sends: {"items": [...], "next_cursor": ...}."""
        query = self._list_query(owner_id, filters)

        async def load() -> bytes:
            rows = await self._repo.list(query)
            next_cursor = None
            if len(rows) > query.limit:
                rows = rows[: query.limit]
                last = rows[-1]
                next_cursor = encode_cursor(filters.sort, last[_SORT_INDEX[query.sort]], last[0])
            return dumps({"items": [task_dict(row) for row in rows], "next_cursor": next_cursor})

        return await self._cached(owner_id, "g", "l:" + query.cache_key(), load)

    async def _cached(
        self, owner_id: uuid.UUID, tag_field: str, slot: str, load: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        if self._reads is None:
            return await load()
        return await self._reads.get(str(owner_id), tag_field, slot, load)

    async def _invalidate(self, owner_id: uuid.UUID, task_id: uuid.UUID | None = None) -> None:
        """After a committed write: the owner's list pages, and the one task it changed."""
        if self._reads is None:
            return
        fields = ("g",) if task_id is None else ("g", f"v:{task_id}")
        await self._reads.invalidate(str(owner_id), *fields)

    def _list_query(self, owner_id: uuid.UUID, filters: ListFilters) -> ListQuery:
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
        return ListQuery(
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

    async def create(
        self, owner_id: uuid.UUID, payload: TaskCreate, idempotency_key: str | None
    ) -> Created:
        values = payload.model_dump(exclude_unset=True)
        if idempotency_key is None:
            async with self._db.transaction(reader=owner_id) as conn:
                task = await self._repo.insert(conn, owner_id=owner_id, values=values, now=utcnow())
            await self._invalidate(owner_id)
            return Created(201, dumps(task_dict(_row(task))), replayed=False)
        key = idempotency.validate_key(idempotency_key)
        fingerprint = idempotency.fingerprint(payload.model_dump(mode="json"))
        # A concurrent request with the same key fails on the key's primary key, rolls back
        # its task, and on the next pass finds the first request's stored response.
        for _attempt in range(3):
            now = utcnow()
            try:
                async with self._db.transaction(reader=owner_id) as conn:
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
                await self._invalidate(owner_id)
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
    ) -> TaskBody:
        if not changes:
            current = await self.get(owner_id, task_id)
            if expected_versions is not None and current.version not in expected_versions:
                raise self._conflict(current.version)
            return current
        async with self._db.transaction(reader=owner_id) as conn:
            task = await self._repo.update(
                conn,
                owner_id=owner_id,
                task_id=task_id,
                changes=changes,
                expected_versions=expected_versions,
                now=utcnow(),
            )
        if task is not None:
            await self._invalidate(owner_id, task_id)
            return TaskBody(dumps(task_dict(_row(task))), task.version)
        await self._raise_missing_or_conflict(owner_id, task_id)
        raise AssertionError("unreachable")

    async def delete(
        self, owner_id: uuid.UUID, task_id: uuid.UUID, expected_versions: frozenset[int] | None
    ) -> None:
        async with self._db.transaction(reader=owner_id) as conn:
            deleted = await self._repo.delete(
                conn, owner_id=owner_id, task_id=task_id, expected_versions=expected_versions
            )
        if not deleted:
            await self._raise_missing_or_conflict(owner_id, task_id)
        await self._invalidate(owner_id, task_id)

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
