"""Label rules: each user's own set, names unique regardless of case, a cap per user, versions."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.feed import DELETE, UPSERT, ChangeFeed
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, NotFound, VersionMismatch
from taskwell.http.conditional import version_etag
from taskwell.labels.models import labels, task_labels
from taskwell.settings import Settings
from taskwell.tasks.repository import lock_in_id_order
from taskwell.users.models import users


class LabelNotFound(NotFound):
    """Also the answer for another user's label: whether it exists is not the caller's to learn."""

    slug, title, status = "label-not-found", "Label not found", 404


class LabelExists(Conflict):
    slug, title, status = "label-exists", "You already have a label with this name", 409


class LabelLimitReached(Conflict):
    slug, title, status = "label-limit", "You have as many labels as allowed", 409


class LabelVersionConflict(VersionMismatch):
    """If-Match named an older version."""


@dataclass(frozen=True, slots=True)
class Label:
    id: uuid.UUID
    name: str
    color: str | None
    version: int
    created_at: datetime
    updated_at: datetime


_L = labels
_COLUMNS = tuple(_L.c[name] for name in Label.__dataclass_fields__)
_OWNER = sa.bindparam("owner", type_=sa.Uuid)
_ID = sa.bindparam("label_id", type_=sa.Uuid)


def _label(row: Sequence[Any]) -> Label:
    return Label(*row)


def _same_name(name: str) -> str:
    # Compared in Python, not with SQL lower(): SQLite's folds ASCII only and PostgreSQL's
    # follows the database's locale, and the two backends must agree on what is a duplicate.
    return name.casefold()


class LabelService:
    def __init__(self, settings: Settings, db: Database, feed: ChangeFeed) -> None:
        self._db = db
        self._feed = feed
        self._max_per_user = settings.labels_max_per_user
        self._list = db.prepare(sa.select(*_COLUMNS).where(_L.c.owner_id == _OWNER))
        self._get = db.prepare(sa.select(*_COLUMNS).where(_L.c.id == _ID, _L.c.owner_id == _OWNER))

    async def list(self, owner_id: uuid.UUID) -> list[Label]:
        """All the owner's labels by name, ignoring case (at most labels_max_per_user)."""
        rows = await self._db.fetch(self._list, {"owner": owner_id}, reader=owner_id)
        # Sorted here for the same reason names are compared here (_same_name).
        found = [_label(row) for row in rows]
        return sorted(found, key=lambda label: (_same_name(label.name), label.name, label.id))

    async def get(self, owner_id: uuid.UUID, label_id: uuid.UUID) -> Label:
        row = await self._db.fetch_one(
            self._get, {"owner": owner_id, "label_id": label_id}, reader=owner_id
        )
        if row is None:
            raise _not_found()
        return _label(row)

    async def create(self, owner_id: uuid.UUID, *, name: str, color: str | None) -> Label:
        now = utcnow()
        label = Label(uuid.uuid4(), name, color, 1, now, now)
        async with self._db.transaction(reader=owner_id) as conn:
            names = await self._names(conn, owner_id)
            self._refuse_duplicate(names, name, label.id)
            if len(names) >= self._max_per_user:
                raise LabelLimitReached(
                    f"At most {self._max_per_user} labels per user; delete one you no longer use."
                )
            await conn.execute(
                sa.insert(_L).values(
                    id=label.id,
                    owner_id=owner_id,
                    name=name,
                    color=color,
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            await self._feed.record(conn, "label", [label.id], UPSERT, now=now, user_id=owner_id)
        return label

    async def update(
        self,
        owner_id: uuid.UUID,
        label_id: uuid.UUID,
        changes: dict[str, Any],
        expected_versions: frozenset[int] | None,
    ) -> Label:
        async with self._db.transaction(reader=owner_id) as conn:
            current = await self._locked(
                conn, owner_id, label_id, expected_versions, for_delete=False
            )
            if not changes:
                return current
            if "name" in changes:
                self._refuse_duplicate(await self._names(conn, owner_id), changes["name"], label_id)
            row = (
                await conn.execute(
                    sa.update(_L)
                    .where(_L.c.id == label_id)
                    .values(**changes, version=_L.c.version + 1, updated_at=utcnow())
                    .returning(*_COLUMNS)
                )
            ).one()
            await self._feed.record(
                conn, "label", [label_id], UPSERT, now=utcnow(), user_id=owner_id
            )
        return _label(row)

    async def delete(
        self, owner_id: uuid.UUID, label_id: uuid.UUID, expected_versions: frozenset[int] | None
    ) -> None:
        """The label goes, and with it every task's use of it (task_labels cascades)."""
        async with self._db.transaction(reader=owner_id) as conn:
            await self._locked(conn, owner_id, label_id, expected_versions, for_delete=True)
            # The cascade into task_labels updates each task carrying the label (their
            # label_ids, labels/mirror.py): its tasks are taken first, in id order.
            await lock_in_id_order(
                conn, sa.select(task_labels.c.task_id).where(task_labels.c.label_id == label_id)
            )
            await conn.execute(sa.delete(_L).where(_L.c.id == label_id))
            # Clients drop it from their tasks' `labels` too.
            await self._feed.record(
                conn, "label", [label_id], DELETE, now=utcnow(), user_id=owner_id
            )

    async def owned(
        self, conn: AsyncConnection, owner_id: uuid.UUID, label_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        """Which of `label_ids` are this owner's labels (one query), in the caller's transaction:
        a task write refuses the others."""
        wanted = set(label_ids)
        if not wanted:
            return set()
        rows = await conn.execute(
            sa.select(_L.c.id).where(_L.c.owner_id == owner_id, _L.c.id.in_(sorted(wanted)))
        )
        # Answered with the caller's own objects: a driver may return its own UUID type.
        found = {str(row[0]) for row in rows}
        return {label_id for label_id in wanted if str(label_id) in found}

    async def _names(self, conn: AsyncConnection, owner_id: uuid.UUID) -> dict[uuid.UUID, str]:
        """The owner's label names, read after taking the owner's lock: concurrent creations
        and renames would each check the same names (or count) and both go through. NO KEY
        UPDATE leaves alone the inserts that only reference the user (tasks, labels).
        SQLite's BEGIN IMMEDIATE already serialises writers."""
        if conn.dialect.name != "sqlite":
            await conn.execute(
                sa.select(users.c.id).where(users.c.id == owner_id).with_for_update(key_share=True)
            )
        rows = await conn.execute(sa.select(_L.c.id, _L.c.name).where(_L.c.owner_id == owner_id))
        return {row[0]: row[1] for row in rows}

    @staticmethod
    def _refuse_duplicate(names: dict[uuid.UUID, str], name: str, label_id: uuid.UUID) -> None:
        wanted = _same_name(name)
        for other_id, other in names.items():
            if other_id != label_id and _same_name(other) == wanted:
                raise LabelExists(
                    f'You already have the label "{other}"; '
                    "names that differ only in case name the same label."
                )

    async def _locked(
        self,
        conn: AsyncConnection,
        owner_id: uuid.UUID,
        label_id: uuid.UUID,
        expected_versions: frozenset[int] | None,
        *,
        for_delete: bool,
    ) -> Label:
        """The label, locked for this transaction, if the owner's and at an accepted version.

        A change takes NO KEY UPDATE, which lets tasks go on referencing the label meanwhile;
        a delete takes the full lock, as its DELETE would."""
        row = (
            await conn.execute(
                sa.select(*_COLUMNS)
                .where(_L.c.id == label_id, _L.c.owner_id == owner_id)
                .with_for_update(key_share=not for_delete)
            )
        ).first()
        if row is None:
            raise _not_found()
        label = _label(row)
        if expected_versions is not None and label.version not in expected_versions:
            raise LabelVersionConflict(
                "The label was changed by someone else; fetch it, re-apply your change, and "
                "send If-Match with its new ETag.",
                extra={"current_version": label.version},
                headers={"ETag": version_etag(label.version)},
            )
        return label


def _not_found() -> LabelNotFound:
    return LabelNotFound("No label with this id.")
