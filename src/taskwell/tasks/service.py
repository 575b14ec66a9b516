"""Task rules: access by project role, versions, idempotent creation, moves, subtasks,
the trash, and listing with cursors."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.feed import DELETE, UPSERT, ChangeFeed
from taskwell.db import idempotency
from taskwell.db.engine import Database
from taskwell.db.pagination import decode_cursor, encode_cursor, page_size
from taskwell.db.types import utcnow
from taskwell.errors import TYPE_PREFIX, Conflict, DomainError, InvalidCursor, ValidationFailed
from taskwell.events.wakeups import Wakeups
from taskwell.http.conditional import version_etag
from taskwell.http.json_body import dumps
from taskwell.kv.cache import CachedReads
from taskwell.projects.access import Grant, ProjectAccess
from taskwell.projects.models import WRITE, Role
from taskwell.settings import Settings
from taskwell.tasks import recurrence
from taskwell.tasks.errors import TaskNotFound, VersionConflict
from taskwell.tasks.models import LABELS_PER_TASK_MAX, MAX_DEPTH, Priority, TaskStatus
from taskwell.tasks.repository import SORTABLE, ListQuery, TaskRepository
from taskwell.tasks.schemas import (
    TASK_FIELDS,
    BulkRequest,
    ChildrenOnDone,
    Task,
    TaskCreate,
    task_dict,
)

if TYPE_CHECKING:
    from taskwell.activity.service import ActivityLog
    from taskwell.labels.service import LabelService

__all__ = ["TaskNotFound", "TaskService", "VersionConflict"]

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
# Fields whose change is a move (recorded as such in the activity).
_MOVE_FIELDS = frozenset({"project_id", "section_id", "parent_id"})
_DUE_FIELDS = frozenset({"due_at", "due_date", "due_timezone", "recurrence"})
# Changes that must be checked against the project's tree or members under its lock.
_SHAPE_FIELDS = frozenset({"parent_id", "assignee_id", "project_id"})


class _Rollback(Exception):
    """Undoes a bulk change in which some item failed."""


class DuplicateItem(DomainError):
    slug, title, status = "duplicate-item", "The same task is named twice", 422


_DUPLICATE = DuplicateItem("Name each task once.")


@dataclass(frozen=True, slots=True)
class BulkResult:
    applied: bool
    results: builtins.list[dict[str, Any]]


def _item_problem(task_id: uuid.UUID, exc: DomainError) -> dict[str, Any]:
    problem: dict[str, Any] = {
        "id": task_id,
        "status": exc.status,
        "type": TYPE_PREFIX + exc.slug,
        "title": exc.title,
        "detail": exc.detail,
    }
    problem.update({k: v for k, v in exc.extra.items() if k in ("errors", "current_version")})
    return problem


class InvalidReference(ValidationFailed):
    """An id in the body that names nothing the task may refer to: a section of another
    project, a parent elsewhere, an assignee who is not a member, a label not the caller's."""


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
    project_id: uuid.UUID | None = None
    section_id: uuid.UUID | None = None
    parent_id: uuid.UUID | None = None
    assignee_id: uuid.UUID | None = None
    labels: tuple[uuid.UUID, ...] = ()


class TaskService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        repo: TaskRepository,
        access: ProjectAccess,
        activity: ActivityLog,
        labels: LabelService,
        feed: ChangeFeed,
        reads: CachedReads | None = None,
        wakeups: Wakeups | None = None,
    ) -> None:
        self._feed = feed
        self._wakeups = wakeups
        self._db = db
        self._repo = repo
        self._access = access
        self._activity = activity
        self._labels = labels
        self._reads = reads
        self._idempotency_ttl = settings.idempotency_ttl_seconds
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max
        self._trash_days = settings.trash_retention_days

    # Reads

    async def get(self, user_id: uuid.UUID, task_id: uuid.UUID) -> TaskBody:
        async def load() -> bytes:
            row = await self._repo.get(user_id, task_id)
            if row is None:
                raise TaskNotFound("No task with this id.")
            return dumps(task_dict(row))

        body = await self._cached(user_id, "t:" + str(task_id), load)
        return TaskBody.of(body)

    async def list(self, user_id: uuid.UUID, filters: ListFilters) -> bytes:
        """One page as the JSON the API sends: {"items": [...], "next_cursor": ...}."""
        query = self._list_query(user_id, filters)

        async def load() -> bytes:
            rows = await self._repo.list(query)
            next_cursor = None
            if len(rows) > query.limit:
                rows = rows[: query.limit]
                last = rows[-1]
                next_cursor = encode_cursor(filters.sort, last[_SORT_INDEX[query.sort]], last[0])
            return dumps({"items": [task_dict(row) for row in rows], "next_cursor": next_cursor})

        return await self._cached(user_id, "l:" + query.cache_key(), load)

    async def _cached(
        self, user_id: uuid.UUID, slot: str, load: Callable[[], Awaitable[bytes]]
    ) -> bytes:
        # One tag per reader: any change they can see (theirs or another member's, a label,
        # a membership) bumps it, and all their cached pages and tasks are unreachable.
        if self._reads is None:
            return await load()
        return await self._reads.get(str(user_id), "g", slot, load)

    async def changed_for(self, readers: Iterable[uuid.UUID]) -> None:
        """After a committed change these readers can see: their cached reads go, with
        replicas their next reads wait for a replica that has the change, and their open event
        streams look at once."""
        readers = list(dict.fromkeys(readers))
        if self._db.replicas is not None:
            await self._db.replicas.note_writes([str(reader) for reader in readers])
        if self._reads is not None:
            for reader in readers:
                await self._reads.invalidate(str(reader), "g")
        if self._wakeups is not None:
            await self._wakeups.publish(readers)

    def _list_query(self, user_id: uuid.UUID, filters: ListFilters) -> ListQuery:
        limit = page_size(filters.limit, default=self._page_default, maximum=self._page_max)
        descending = filters.sort.startswith("-")
        sort = filters.sort.removeprefix("-")
        cursor_value: Any = None
        cursor_id: uuid.UUID | None = None
        if filters.cursor is not None:
            cursor = decode_cursor(filters.cursor, sort=filters.sort, value_kind=_SORT_KINDS[sort])
            cursor_value, cursor_id = _possible_sort_value(sort, cursor.value), cursor.last_id
        return ListQuery(
            user_id=user_id,
            project_id=filters.project_id,
            section_id=filters.section_id,
            parent_id=filters.parent_id,
            assignee_id=filters.assignee_id,
            labels=tuple(sorted(set(filters.labels))),
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

    # Create

    async def create(
        self, user_id: uuid.UUID, payload: TaskCreate, idempotency_key: str | None
    ) -> Created:
        values = payload.model_dump(exclude_unset=True)
        if idempotency_key is None:
            async with self._db.transaction(reader=user_id) as conn:
                task, members = await self._insert(conn, user_id, values, utcnow())
            await self.changed_for(members)
            return Created(201, _body(task), replayed=False)
        key = idempotency.validate_key(idempotency_key)
        fingerprint = idempotency.fingerprint(payload.model_dump(mode="json"))
        # A concurrent request with the same key fails on the key's primary key, rolls back
        # its task, and on the next pass finds the first request's stored response.
        for _attempt in range(3):
            now = utcnow()
            try:
                async with self._db.transaction(reader=user_id) as conn:
                    stored = await idempotency.find(
                        conn,
                        owner_id=user_id,
                        scope=_IDEMPOTENCY_SCOPE,
                        key=key,
                        request_hash=fingerprint,
                        not_before=idempotency.expiry_cutoff(now, self._idempotency_ttl),
                    )
                    if stored is not None:
                        return Created(stored.status_code, stored.body, replayed=True)
                    task, members = await self._insert(conn, user_id, values, now)
                    body = _body(task)
                    await idempotency.save(
                        conn,
                        owner_id=user_id,
                        scope=_IDEMPOTENCY_SCOPE,
                        key=key,
                        request_hash=fingerprint,
                        status_code=201,
                        body=body,
                        now=now,
                    )
                await self.changed_for(members)
                return Created(201, body, replayed=False)
            except IntegrityError:
                continue
        raise Conflict("A request with this Idempotency-Key is still being processed; retry.")

    async def _insert(
        self, conn: AsyncConnection, user_id: uuid.UUID, values: dict[str, Any], now: datetime
    ) -> tuple[Task, builtins.list[uuid.UUID]]:
        project_id = values.get("project_id")
        if project_id is None:
            project_id = await self._access.inbox(conn, user_id)
        await self._access.project(conn, user_id, project_id, WRITE, "add tasks")
        if values.get("parent_id") is not None or values.get("assignee_id") is not None:
            await self._access.lock(conn, project_id)
        section_id = values.get("section_id")
        if section_id is not None:
            await self._check_section(conn, project_id, section_id)
        parent_id = values.get("parent_id")
        if parent_id is not None:
            await self._check_parent(conn, project_id, parent_id, height=0, task_id=None)
        assignee_id = values.get("assignee_id")
        members = await self._access.members(conn, project_id)
        if assignee_id is not None and assignee_id not in members:
            raise _bad_ref("assignee_id", "The assignee must be a member of the task's project.")
        label_ids = values.get("labels") or []
        await self._check_labels(conn, user_id, label_ids)
        due = await self._due(conn, user_id, None, values)
        position = values.get("position")
        if position is None:
            position = await self._repo.next_position(conn, project_id)
        status = values.get("status", TaskStatus.todo)
        row = {
            "id": uuid.uuid4(),
            "project_id": project_id,
            "section_id": section_id,
            "parent_id": parent_id,
            "title": values["title"],
            "description": values.get("description", ""),
            "status": str(status),
            "priority": int(values.get("priority", 0)),
            **due,
            "start_date": values.get("start_date"),
            "completed_at": now if status == TaskStatus.done else None,
            "position": float(position),
            "assignee_id": assignee_id,
            "created_by": user_id,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        await self._repo.insert(conn, row)
        await self._feed.record(conn, "task", [row["id"]], UPSERT, now=now, project_id=project_id)
        await self._repo.set_labels(conn, row["id"], user_id, label_ids)
        await self._activity.record(
            conn,
            task_id=row["id"],
            actor_id=user_id,
            action="created",
            changes={"title": [None, row["title"]], "project_id": [None, str(project_id)]},
            now=now,
        )
        task = await self._repo.read(conn, user_id, row["id"])
        assert task is not None
        return task, members

    # Update

    async def update(
        self,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        changes: dict[str, Any],
        expected_versions: frozenset[int] | None,
        children: ChildrenOnDone = ChildrenOnDone.complete,
    ) -> TaskBody:
        if not changes:
            async with self._db.engine.connect() as conn:
                await self._access.task(conn, user_id, task_id, WRITE, "change tasks")
            current = await self.get(user_id, task_id)
            if expected_versions is not None and current.version not in expected_versions:
                raise self._conflict(current.version)
            return current
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            after, readers = await self._apply(
                conn, user_id, task_id, changes, expected_versions, children, now
            )
        await self.changed_for(readers)
        return TaskBody(_body(after), after.version)

    async def _apply(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        changes: dict[str, Any],
        expected_versions: frozenset[int] | None,
        children: ChildrenOnDone,
        now: datetime,
    ) -> tuple[Task, set[uuid.UUID]]:
        """One patch inside the caller's transaction: the task after it, and who sees it."""
        grant = await self._access.task(conn, user_id, task_id, WRITE, "change tasks")
        if _SHAPE_FIELDS & changes.keys():
            # Tree, membership and project checks hold until this write commits.
            await self._access.lock(
                conn, grant.project_id, changes.get("project_id") or grant.project_id
            )
        await self._repo.lock(conn, task_id)
        before = await self._repo.read(conn, user_id, task_id)
        if before is None:  # trashed between the two reads
            raise TaskNotFound("No task with this id.")
        if expected_versions is not None and before.version not in expected_versions:
            raise self._conflict(before.version)
        readers = set(await self._access.members(conn, grant.project_id))
        values = await self._resolve(conn, user_id, grant, before, changes, readers, now)
        labels = values.pop("labels", None)
        updated = await self._repo.update(
            conn,
            task_id=task_id,
            values=values,
            expected_versions=frozenset({before.version}),
            now=now,
        )
        if not updated:
            latest = await self._repo.read(conn, user_id, task_id)
            if latest is None:
                raise TaskNotFound("No task with this id.")
            raise self._conflict(latest.version)
        if labels is not None:
            await self._repo.set_labels(conn, task_id, user_id, labels)
        if "due_at" in values and values["due_at"] != before.due_at:
            await self._repo.shift_reminders(conn, task_id, values["due_at"])
        moved_to = values.get("project_id", before.project_id)
        if moved_to != before.project_id:
            descendants = await self._repo.subtree(conn, task_id)
            await self._repo.move_descendants(conn, descendants, moved_to, now)
            moved = [task_id, *descendants]
            # Reminders belong to those who can see the task: non-members of the new project
            # lose theirs (the worker would otherwise tell them about a task they cannot read).
            await self._repo.drop_reminders_of_outsiders(conn, moved, moved_to)
            # Gone for the old project's members, there for the new one's.
            await self._feed.record(
                conn, "task", moved, DELETE, now=now, project_id=before.project_id
            )
            await self._feed.record(conn, "task", moved, UPSERT, now=now, project_id=moved_to)
        next_id = None
        if values.get("status") == TaskStatus.done.value and before.status != TaskStatus.done:
            # After a move, so the occurrence and its subtasks' copies follow it there.
            next_id = await self._next_occurrence(
                conn, user_id, task_id, now, subtasks_done=children is ChildrenOnDone.complete
            )
        if values.get("status") == TaskStatus.done.value and children is ChildrenOnDone.complete:
            tree = await self._repo.subtree(conn, task_id)
            done_now = set(await self._repo.complete(conn, tree, now))
            # In the tree's order, parents first: a recurring subtask hands its own subtasks'
            # rules on before they would start series of their own under it.
            completed = [child for child in tree if child in done_now]
            await self._feed.record(conn, "task", completed, UPSERT, now=now, project_id=moved_to)
            for child in completed:
                # A recurring subtask completed with its parent goes on to its next occurrence,
                # unless the parent recurs: its copy under the parent's next one goes on.
                following = None
                if next_id is None:
                    following = await self._next_occurrence(
                        conn, user_id, child, now, subtasks_done=True
                    )
                if following is not None:
                    await self._feed.record(
                        conn, "task", [following], UPSERT, now=now, project_id=moved_to
                    )
                await self._activity.record(
                    conn,
                    task_id=child,
                    actor_id=user_id,
                    action="completed",
                    changes={
                        "status": [None, TaskStatus.done.value],
                        "by_parent": [None, str(task_id)],
                    },
                    now=now,
                )
        after = await self._repo.read(conn, user_id, task_id)
        assert after is not None
        await self._activity.record(
            conn,
            task_id=task_id,
            actor_id=user_id,
            action=_action(before, values, labels),
            changes=_diff(before, after, values, labels),
            now=now,
        )
        await self._feed.record(conn, "task", [task_id], UPSERT, now=now, project_id=moved_to)
        if next_id is not None:
            await self._feed.record(conn, "task", [next_id], UPSERT, now=now, project_id=moved_to)
            await self._activity.record(
                conn,
                task_id=next_id,
                actor_id=user_id,
                action="created",
                changes={"recurrence_of": [None, str(task_id)]},
                now=now,
            )
        return after, readers

    async def _resolve(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        grant: Grant,
        before: Task,
        changes: dict[str, Any],
        readers: set[uuid.UUID],
        now: datetime,
    ) -> dict[str, Any]:
        """The column values a patch sets, every reference in it checked."""
        values: dict[str, Any] = dict(changes)
        project_id = values.get("project_id", before.project_id)
        moving = project_id != before.project_id
        if moving:
            await self._access.project(conn, user_id, project_id, WRITE, "add tasks")
            readers.update(await self._access.members(conn, project_id))
            values.setdefault("section_id", None)
            values.setdefault("parent_id", None)
            if (
                "assignee_id" not in values
                and before.assignee_id is not None
                and before.assignee_id not in await self._access.members(conn, project_id)
            ):
                values["assignee_id"] = None
        else:
            values.pop("project_id", None)
        if values.get("section_id") is not None:
            await self._check_section(conn, project_id, values["section_id"])
        if values.get("parent_id") is not None:
            height = await self._repo.height(conn, before.id, live=True)
            await self._check_parent(
                conn, project_id, values["parent_id"], height=height, task_id=before.id
            )
        if values.get("assignee_id") is not None and values[
            "assignee_id"
        ] not in await self._access.members(conn, project_id):
            raise _bad_ref("assignee_id", "The assignee must be a member of the task's project.")
        if "labels" in values:
            await self._check_labels(conn, user_id, values["labels"])
        if "status" in values:
            values["status"] = str(values["status"])
            if values["status"] == TaskStatus.done:
                values["completed_at"] = before.completed_at or now
            else:
                values["completed_at"] = None
        if "priority" in values:
            values["priority"] = int(values["priority"])
        if "position" in values:
            values["position"] = float(values["position"])
        if _DUE_FIELDS & values.keys():
            values.update(await self._due(conn, user_id, before, values))
        return values

    async def _due(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        before: Task | None,
        values: dict[str, Any],
    ) -> dict[str, Any]:
        """The due columns after a create or patch: a date-time or a whole day, the zone a
        recurring date-time keeps, and the rule, checked together."""
        sent = {name: values[name] for name in _DUE_FIELDS if name in values}
        if sent.get("due_at") is not None and sent.get("due_date") is not None:
            raise _bad_ref("due_date", "Give due_at (a date-time) or due_date (a day), not both.")
        old = {name: getattr(before, name) if before else None for name in _DUE_FIELDS}
        old["due_at"] = None if old["due_date"] is not None else old["due_at"]
        due_at, due_date = old["due_at"], old["due_date"]
        if "due_at" in sent or "due_date" in sent:
            due_at, due_date = sent.get("due_at"), sent.get("due_date")
        rule = sent.get("recurrence", old["recurrence"])
        zone = sent.get("due_timezone", old["due_timezone"])
        if due_at is None and due_date is None:
            if sent.get("recurrence") is not None:
                raise _bad_ref("recurrence", "A recurring task needs a due (due_at or due_date).")
            if sent.get("due_timezone") is not None:
                raise _bad_ref("due_timezone", "A time zone applies to a due_at only.")
            # No due, so no series and no zone.
            return {"due_at": None, "due_date": None, "due_timezone": None, "recurrence": None}
        if due_date is not None:
            if sent.get("due_timezone") is not None:
                raise _bad_ref("due_timezone", "A whole-day due has no time zone.")
            return {
                "due_at": datetime.combine(due_date, time(), UTC),
                "due_date": due_date,
                "due_timezone": None,
                "recurrence": rule,
            }
        assert due_at is not None
        if zone is None:
            zone = await self._repo.user_time_zone(conn, user_id)
        return {
            "due_at": due_at.astimezone(UTC),
            "due_date": None,
            "due_timezone": zone,
            "recurrence": rule,
        }

    async def _next_occurrence(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        now: datetime,
        *,
        subtasks_done: bool,
    ) -> uuid.UUID | None:
        """After a recurring task is completed (its row locked by this transaction): the
        next occurrence, once, with open copies of its subtasks (`subtasks_done`: they are
        being completed with it). The completed task gives its rule to the next, so
        completing it again (after reopening it) creates nothing more."""
        done = await self._repo.read(conn, user_id, task_id)
        assert done is not None
        if done.recurrence is None or done.due_at is None:
            return None
        occurrence = recurrence.next_occurrence(
            done.recurrence,
            due_at=done.due_at,
            due_date=done.due_date,
            time_zone=done.due_timezone or "UTC",
        )
        if occurrence is None:  # the series has ended
            await self._repo.update(
                conn, task_id=task_id, values={"recurrence": None}, expected_versions=None, now=now
            )
            return None
        next_id = await self._repo.insert_next_occurrence(
            conn,
            done,
            due_at=occurrence.due_at,
            due_date=occurrence.due_date,
            rule=occurrence.rule,
            actor_id=user_id,
            now=now,
        )
        # Its subtasks come along, open again, as far on as the task itself.
        zone = done.due_timezone or "UTC"
        days = recurrence.days_between(
            recurrence.Occurrence(done.due_at, done.due_date, None), occurrence, zone
        )
        copies, handed_over = await self._repo.copy_subtasks(
            conn, task_id, next_id, days=days, done=subtasks_done, actor_id=user_id, now=now
        )
        changed = [c for c, _ in copies] + [h.original for h in handed_over]
        if changed:
            await self._feed.record(
                conn, "task", changed, UPSERT, now=now, project_id=done.project_id
            )
        for copy_id, original in copies:
            await self._activity.record(
                conn,
                task_id=copy_id,
                actor_id=user_id,
                action="created",
                changes={"recurrence_of": [None, str(original)]},
                now=now,
            )
        for handed in handed_over:
            await self._activity.record(
                conn,
                task_id=handed.original,
                actor_id=user_id,
                action="updated",
                changes={
                    "recurrence": [handed.rule, None],
                    "next_occurrence_id": [None, str(handed.copy)],
                },
                now=now,
            )
        return next_id

    async def _check_section(
        self, conn: AsyncConnection, project_id: uuid.UUID, section_id: uuid.UUID
    ) -> None:
        if not await self._access.section_in(conn, section_id, project_id):
            raise _bad_ref("section_id", "The section must belong to the task's project.")

    async def _check_parent(
        self,
        conn: AsyncConnection,
        project_id: uuid.UUID,
        parent_id: uuid.UUID,
        *,
        height: int,
        task_id: uuid.UUID | None,
    ) -> None:
        if parent_id == task_id or not await self._repo.live_task_in(conn, parent_id, project_id):
            raise _bad_ref("parent_id", "The parent must be another task in the same project.")
        chain = await self._repo.ancestors(conn, parent_id)
        if task_id is not None and task_id in chain:
            raise _bad_ref("parent_id", "A task cannot be moved under its own subtask.")
        depth = len(chain) + 1 + height
        if depth > MAX_DEPTH:
            raise _bad_ref(
                "parent_id", f"Subtasks nest at most {MAX_DEPTH} levels below a top-level task."
            )

    async def _check_labels(
        self, conn: AsyncConnection, user_id: uuid.UUID, label_ids: builtins.list[uuid.UUID]
    ) -> None:
        if not label_ids:
            return
        owned = await self._labels.owned(conn, user_id, label_ids)
        if set(label_ids) - owned:
            raise _bad_ref("labels", "Every label must be one of your labels.")

    # Trash

    async def delete(
        self, user_id: uuid.UUID, task_id: uuid.UUID, expected_versions: frozenset[int] | None
    ) -> None:
        """To the trash, with its subtasks; restorable until the retention period ends."""
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            _gone, readers = await self._trash(conn, user_id, task_id, expected_versions, now)
        await self.changed_for(readers)

    async def _trash(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
        now: datetime,
    ) -> tuple[builtins.list[uuid.UUID], builtins.list[uuid.UUID]]:
        """To the trash with its subtasks: (the ids trashed, who sees the change)."""
        grant = await self._access.task(conn, user_id, task_id, WRITE, "delete tasks")
        descendants = await self._repo.subtree(conn, task_id)
        if not await self._repo.trash(conn, task_id, expected_versions, now):
            current = await self._repo.read(conn, user_id, task_id)
            if current is None:
                raise TaskNotFound("No task with this id.")
            raise self._conflict(current.version)
        await self._activity.record(
            conn, task_id=task_id, actor_id=user_id, action="deleted", changes={}, now=now
        )
        await self._feed.record(
            conn, "task", [task_id, *descendants], DELETE, now=now, project_id=grant.project_id
        )
        return [task_id, *descendants], await self._access.members(conn, grant.project_id)

    async def bulk(self, user_id: uuid.UUID, request: BulkRequest) -> BulkResult:
        """One action on up to BULK_MAX tasks in one transaction: all of them, or (when any
        one cannot be done) none, with a result per item either way."""
        now = utcnow()
        results: builtins.list[dict[str, Any]] = []
        readers: set[uuid.UUID] = set()
        failed = False
        seen: set[uuid.UUID] = set()
        trashed: set[uuid.UUID] = set()
        try:
            async with self._db.transaction(reader=user_id) as conn:
                await self._repo.lock_many(conn, (item.id for item in request.items))
                for item in request.items:
                    if item.id in seen:
                        results.append(_item_problem(item.id, _DUPLICATE))
                        failed = True
                        continue
                    seen.add(item.id)
                    expected = None if item.version is None else frozenset({item.version})
                    try:
                        if request.action == "delete":
                            if item.id not in trashed:  # else: went with its parent
                                gone, members = await self._trash(
                                    conn, user_id, item.id, expected, now
                                )
                                trashed.update(gone)
                                readers.update(members)
                            results.append({"id": item.id, "status": 204})
                            continue
                        changes = await self._bulk_changes(conn, user_id, item.id, request)
                        after, seen_by = await self._apply(
                            conn, user_id, item.id, changes, expected, request.children, now
                        )
                    except DomainError as exc:
                        results.append(_item_problem(item.id, exc))
                        failed = True
                        continue
                    readers.update(seen_by)
                    results.append({"id": item.id, "status": 200, "version": after.version})
                if failed:
                    raise _Rollback
        except _Rollback:
            return BulkResult(applied=False, results=results)
        await self.changed_for(readers)
        return BulkResult(applied=True, results=results)

    async def _bulk_changes(
        self, conn: AsyncConnection, user_id: uuid.UUID, task_id: uuid.UUID, request: BulkRequest
    ) -> dict[str, Any]:
        if request.action == "complete":
            return {"status": TaskStatus.done}
        if request.action == "move":
            changes: dict[str, Any] = {"project_id": request.project_id}
            if request.section_id is not None:
                changes["section_id"] = request.section_id
            return changes
        # label: the caller's labels on the task, plus and minus, read under the task's lock
        # so a concurrent change to them is not overwritten.
        await self._access.task(conn, user_id, task_id, WRITE, "change tasks")
        await self._repo.lock(conn, task_id)
        current = await self._repo.read(conn, user_id, task_id)
        if current is None:
            raise TaskNotFound("No task with this id.")
        mine = {uuid.UUID(str(label)) for label in current.labels}
        mine |= set(request.add_labels)
        mine -= set(request.remove_labels)
        if len(mine) > LABELS_PER_TASK_MAX:
            raise _bad_ref("labels", f"A task takes at most {LABELS_PER_TASK_MAX} of your labels.")
        return {"labels": sorted(mine)}

    async def restore(self, user_id: uuid.UUID, task_id: uuid.UUID) -> TaskBody:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            found = await self._repo.trashed(conn, user_id, task_id)
            if found is None:
                raise TaskNotFound("No task with this id in the trash.")
            project_id, role, deleted_at, parent_id = found
            Grant(project_id, Role(role)).require(WRITE, "restore tasks")
            # Back under its parent if that is live, else at the top level.
            await self._access.lock(conn, project_id)
            detach = parent_id is not None and not await self._repo.live_task_in(
                conn, parent_id, project_id
            )
            if parent_id is not None and not detach:
                # The parent may have moved deeper meanwhile: back at the top level rather
                # than past the depth limit.
                depth = len(await self._repo.ancestors(conn, parent_id)) + 1
                detach = depth + await self._repo.height(conn, task_id, live=False) > MAX_DEPTH
            await self._repo.restore(conn, task_id, deleted_at, detach, now)
            restored = [task_id, *await self._repo.subtree(conn, task_id)]
            await self._feed.record(conn, "task", restored, UPSERT, now=now, project_id=project_id)
            await self._activity.record(
                conn, task_id=task_id, actor_id=user_id, action="restored", changes={}, now=now
            )
            task = await self._repo.read(conn, user_id, task_id)
            assert task is not None
            readers = await self._access.members(conn, project_id)
        await self.changed_for(readers)
        return TaskBody(_body(task), task.version)

    async def trash(self, user_id: uuid.UUID, limit: int) -> builtins.list[dict[str, Any]]:
        rows = await self._repo.trash_list(user_id, limit)
        items = []
        for row in rows:
            item = task_dict(row[:-1])
            item["deleted_at"] = row[-1]
            item["purge_at"] = row[-1] + timedelta(days=self._trash_days)
            items.append(item)
        return items

    async def purge_trash(self, now: datetime) -> int:
        readers: set[uuid.UUID] = set()
        async with self._db.transaction() as conn:
            purged, changed = await self._repo.purge(
                conn, now - timedelta(days=self._trash_days), utcnow()
            )
            for task_id, project_id in changed:
                await self._feed.record(
                    conn, "task", [task_id], UPSERT, now=utcnow(), project_id=project_id
                )
                readers.update(await self._access.members(conn, project_id))
        await self.changed_for(readers)
        return purged

    @staticmethod
    def _conflict(current: int) -> VersionConflict:
        return VersionConflict(
            "The task was changed by someone else; fetch it, re-apply your change, and send "
            "If-Match with its new ETag.",
            extra={"current_version": current},
            headers={"ETag": version_etag(current)},
        )


def _bad_ref(field: str, message: str) -> InvalidReference:
    return InvalidReference(field, message, location="body", code="reference")


def _action(before: Task, values: dict[str, Any], labels: Any) -> str:
    status = values.get("status")
    if status is not None and status != before.status:
        if status == TaskStatus.done.value:
            return "completed"
        if before.status == TaskStatus.done.value:
            return "reopened"
    if any(name in values and values[name] != getattr(before, name) for name in _MOVE_FIELDS):
        return "moved"
    return "updated"


def _diff(before: Task, after: Task, values: dict[str, Any], labels: Any) -> dict[str, Any]:
    changed: dict[str, Any] = {}
    for name in values:
        if name in ("completed_at",):
            continue
        old, new = getattr(before, name), getattr(after, name)
        if old != new:
            changed[name] = [_jsonable(old), _jsonable(new)]
    # Labels are each member's own: which ones the actor set is not for the shared history.
    return changed


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value


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


def _body(task: Task) -> bytes:
    return dumps(task_dict(tuple(getattr(task, name) for name in TASK_FIELDS)))
