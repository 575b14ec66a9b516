"""Reminder rules: any member who can see a task may set their own reminders on it, at a
time or a number of minutes before its due; they are delivered by the live-updates worker."""

from __future__ import annotations

import builtins
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import Conflict, NotFound, ValidationFailed
from taskwell.projects.access import ProjectAccess
from taskwell.projects.models import READ
from taskwell.reminders.models import reminders
from taskwell.settings import Settings
from taskwell.tasks.models import tasks

FIELDS = ("id", "task_id", "remind_at", "minutes_before", "delivered_at", "created_at")


class ReminderNotFound(NotFound):
    slug, title, status = "reminder-not-found", "Reminder not found", 404


class ReminderLimit(Conflict):
    slug, title, status = "reminder-limit", "Too many reminders on this task", 409


class ReminderService:
    def __init__(self, settings: Settings, db: Database, access: ProjectAccess) -> None:
        self._db = db
        self._access = access
        self._max = settings.reminders_max_per_task

    async def list(self, user_id: uuid.UUID, task_id: uuid.UUID) -> builtins.list[dict[str, Any]]:
        r = reminders
        async with self._db.engine.connect() as conn:
            await self._access.task(conn, user_id, task_id, READ, "see it")
            rows = await conn.execute(
                sa.select(*(r.c[name] for name in FIELDS))
                .where(r.c.task_id == task_id, r.c.user_id == user_id)
                .order_by(r.c.remind_at, r.c.id)
            )
            return [dict(zip(FIELDS, row, strict=True)) for row in rows]

    async def create(
        self, user_id: uuid.UUID, task_id: uuid.UUID, values: dict[str, Any]
    ) -> dict[str, Any]:
        r = reminders
        now = utcnow()
        async with self._db.transaction() as conn:
            await self._access.task(conn, user_id, task_id, READ, "see it")
            count = await conn.execute(
                sa.select(sa.func.count())
                .select_from(r)
                .where(r.c.task_id == task_id, r.c.user_id == user_id)
            )
            if count.scalar_one() >= self._max:
                raise ReminderLimit(f"You can set at most {self._max} reminders on one task.")
            minutes = values.get("minutes_before")
            if minutes is not None:
                due = await conn.execute(sa.select(tasks.c.due_at).where(tasks.c.id == task_id))
                due_at = due.scalar_one_or_none()
                if due_at is None:
                    raise ValidationFailed(
                        "minutes_before",
                        "This task has no due; give remind_at instead.",
                        code="reference",
                    )
                try:
                    remind_at = due_at - timedelta(minutes=minutes)
                except OverflowError:
                    raise ValidationFailed(
                        "minutes_before",
                        "That is before the earliest time there is; give a smaller number.",
                        code="range",
                    ) from None
            else:
                remind_at = values["remind_at"]
            row = {
                "id": uuid.uuid4(),
                "task_id": task_id,
                "user_id": user_id,
                "remind_at": remind_at,
                "minutes_before": minutes,
                "delivered_at": None,
                "created_at": now,
            }
            await conn.execute(sa.insert(r).values(**row))
        return {name: row[name] for name in FIELDS}

    async def delete(self, user_id: uuid.UUID, task_id: uuid.UUID, reminder_id: uuid.UUID) -> None:
        r = reminders
        async with self._db.transaction() as conn:
            await self._access.task(conn, user_id, task_id, READ, "see it")
            result = await conn.execute(
                sa.delete(r).where(
                    r.c.id == reminder_id, r.c.task_id == task_id, r.c.user_id == user_id
                )
            )
        if not result.rowcount:
            raise ReminderNotFound("No reminder of yours with this id on this task.")
