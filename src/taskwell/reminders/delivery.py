"""Delivering due reminders, once each however many workers run.

The claim, the mark (`delivered_at`) and the change-feed row that announces it are one
transaction; on PostgreSQL rows another worker is claiming are skipped (FOR UPDATE SKIP
LOCKED), on SQLite writers take turns. The feed row ("reminder", addressed to its user) is what
the event streams and the webhooks read, so a reminder reaches them like any other change.
A reminder whose task its user can no longer see is marked and not announced.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from taskwell.changes.feed import UPSERT, ChangeFeed
from taskwell.db.engine import Database
from taskwell.projects.access import visible_projects
from taskwell.reminders.models import reminders
from taskwell.tasks.models import tasks


class ReminderDelivery:
    def __init__(self, db: Database, feed: ChangeFeed) -> None:
        self._db = db
        self._feed = feed
        self._pg = db.dialect.name == "postgresql"

    async def deliver_due(self, now: datetime, limit: int) -> tuple[set[uuid.UUID], int]:
        """Claim up to `limit` due reminders; the users told, and how many were claimed."""
        r, t = reminders, tasks
        claim = (
            sa.select(r.c.id, r.c.user_id)
            .where(r.c.delivered_at.is_(None), r.c.remind_at <= now)
            .order_by(r.c.remind_at)
            .limit(limit)
        )
        if self._pg:
            claim = claim.with_for_update(skip_locked=True)
        told: set[uuid.UUID] = set()
        async with self._db.transaction() as conn:
            due = (await conn.execute(claim)).all()
            if not due:
                return told, 0
            ids = [row[0] for row in due]
            await conn.execute(sa.update(r).where(r.c.id.in_(ids)).values(delivered_at=now))
            by_user: dict[uuid.UUID, list[uuid.UUID]] = {}
            for reminder_id, user_id in due:
                by_user.setdefault(user_id, []).append(reminder_id)
            for user_id, mine in by_user.items():
                visible = (
                    await conn.execute(
                        sa.select(r.c.id)
                        .join(t, t.c.id == r.c.task_id)
                        .where(
                            r.c.id.in_(mine),
                            t.c.deleted_at.is_(None),
                            t.c.project_id.in_(visible_projects(user_id)),
                        )
                    )
                ).scalars()
                announced = list(visible)
                if announced:
                    await self._feed.record(
                        conn, "reminder", announced, UPSERT, now=now, user_id=user_id
                    )
                    told.add(user_id)
        return told, len(due)

    async def next_due(self) -> datetime | None:
        """When the earliest undelivered reminder is due."""
        async with self._db.engine.connect() as conn:
            found = await conn.execute(
                sa.select(sa.func.min(reminders.c.remind_at)).where(
                    reminders.c.delivered_at.is_(None)
                )
            )
            value: datetime | None = found.scalar_one_or_none()
            return value
