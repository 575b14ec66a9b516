"""Comment rules: members read, writers post, only the author edits or deletes; every change
is recorded in the task's activity in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.activity.service import ActivityLog
from taskwell.changes.feed import DELETE, UPSERT, Changed, ChangeFeed
from taskwell.comments.repository import CommentRepository
from taskwell.comments.schemas import FIELDS, comment_dict
from taskwell.db.engine import Database
from taskwell.db.pagination import decode_time_cursor, encode_cursor, page_size
from taskwell.db.types import utcnow
from taskwell.errors import Forbidden, NotFound, VersionMismatch
from taskwell.http.conditional import version_etag
from taskwell.http.json_body import dumps
from taskwell.projects.access import ProjectAccess
from taskwell.projects.models import READ, WRITE
from taskwell.settings import Settings

_SORT = "comments:created_at"
_ID = FIELDS.index("id")
_AUTHOR = FIELDS.index("author_id")
_VERSION = FIELDS.index("version")
_AT = FIELDS.index("created_at")


class CommentNotFound(NotFound):
    """Also the answer for a comment id that belongs to another task."""

    slug, title, status = "comment-not-found", "Comment not found", 404


class NotCommentAuthor(Forbidden):
    """Comments speak for their author: nobody else, not even the project's owner, rewords
    or removes them."""

    slug, title, status = "not-comment-author", "Only its author can change a comment", 403


class CommentVersionConflict(VersionMismatch):
    """If-Match named an older version."""


@dataclass(frozen=True, slots=True)
class CommentBody:
    """One comment as the JSON the API sends, and its version (for the ETag)."""

    body: bytes
    version: int


class CommentService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: ProjectAccess,
        activity: ActivityLog,
        feed: ChangeFeed,
        changed_for: Changed,
    ) -> None:
        self._feed = feed
        self._changed_for = changed_for
        self._db = db
        self._access = access
        self._activity = activity
        self._repo = CommentRepository(db)
        self._page_default = settings.page_size_default
        self._page_max = settings.page_size_max

    async def list(
        self, user_id: uuid.UUID, task_id: uuid.UUID, cursor: str | None, limit: int | None
    ) -> bytes:
        """One page, oldest first, as the JSON the API sends: {"items", "next_cursor"}."""
        size = page_size(limit, default=self._page_default, maximum=self._page_max)
        after = decode_time_cursor(cursor, sort=_SORT) if cursor is not None else None
        await self._access.task(None, user_id, task_id, READ, "read this task's comments")
        rows = await self._repo.page(task_id, after, size + 1, reader=user_id)
        next_cursor = None
        if len(rows) > size:
            rows = rows[:size]
            next_cursor = encode_cursor(_SORT, rows[-1][_AT], rows[-1][_ID])
        return dumps({"items": [comment_dict(row) for row in rows], "next_cursor": next_cursor})

    async def create(self, user_id: uuid.UUID, task_id: uuid.UUID, text: str) -> CommentBody:
        now = utcnow()
        comment_id = uuid.uuid4()
        row = {
            "id": comment_id,
            "task_id": task_id,
            "author_id": user_id,
            "body": text,
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        async with self._db.transaction(reader=user_id) as conn:
            grant = await self._access.task(conn, user_id, task_id, WRITE, "comment on this task")
            await self._repo.insert(conn, row)
            await self._feed.record(
                conn, "comment", [comment_id], UPSERT, now=now, project_id=grant.project_id
            )
            readers = await self._access.members(conn, grant.project_id)
            await self._activity.record(
                conn,
                task_id=task_id,
                actor_id=user_id,
                action="commented",
                changes={"comment_id": [None, row["id"]]},
                now=now,
            )
        await self._changed_for(readers)
        return CommentBody(dumps(comment_dict([row[name] for name in FIELDS])), 1)

    async def edit(
        self,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        comment_id: uuid.UUID,
        text: str,
        expected_versions: frozenset[int] | None,
    ) -> CommentBody:
        now = utcnow()
        async with self._db.transaction(reader=user_id) as conn:
            current, project_id = await self._own(
                conn, user_id, task_id, comment_id, expected_versions
            )
            row = await self._repo.update_body(conn, comment_id, text, now)
            await self._feed.record(
                conn, "comment", [comment_id], UPSERT, now=now, project_id=project_id
            )
            readers = await self._access.members(conn, project_id)
            await self._activity.record(
                conn,
                task_id=task_id,
                actor_id=user_id,
                action="comment_edited",
                changes={
                    "comment_id": [comment_id, comment_id],
                    "version": [current[_VERSION], row[_VERSION]],
                },
                now=now,
            )
        await self._changed_for(readers)
        return CommentBody(dumps(comment_dict(row)), int(row[_VERSION]))

    async def delete(
        self,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        comment_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
    ) -> None:
        async with self._db.transaction(reader=user_id) as conn:
            _row, project_id = await self._own(
                conn, user_id, task_id, comment_id, expected_versions
            )
            await self._repo.delete(conn, comment_id)
            await self._feed.record(
                conn, "comment", [comment_id], DELETE, now=utcnow(), project_id=project_id
            )
            readers = await self._access.members(conn, project_id)
            # The id only, never the text: a deleted comment must not live on in the history.
            await self._activity.record(
                conn,
                task_id=task_id,
                actor_id=user_id,
                action="comment_deleted",
                changes={"comment_id": [comment_id, None]},
                now=utcnow(),
            )
        await self._changed_for(readers)

    async def _own(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        task_id: uuid.UUID,
        comment_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
    ) -> tuple[Sequence[Any], uuid.UUID]:
        """The caller's own comment (and its project) on a task they may still write to,
        locked, at a version If-Match accepts; otherwise the problem that says which of these
        it is not."""
        grant = await self._access.task(conn, user_id, task_id, READ, "change comments")
        row = await self._repo.lock(conn, task_id, comment_id)
        if row is None:
            raise CommentNotFound("No comment with this id on this task.")
        if row[_AUTHOR] != user_id:
            raise NotCommentAuthor("Only the author of a comment can edit or delete it.")
        grant.require(WRITE, "change comments")
        version = int(row[_VERSION])
        if expected_versions is not None and version not in expected_versions:
            raise CommentVersionConflict(
                "The comment was changed since you read it; fetch it again and send If-Match "
                "with its new ETag.",
                extra={"current_version": version},
                headers={"ETag": version_etag(version)},
            )
        return row, grant.project_id
