"""Writing an import plan, inside the caller's transaction: all of it or, on any error, none.

Everything is new and the importer's: new projects they own (the Inbox's content goes into
their own Inbox), new sections, their labels (one of the same name, ignoring case, is reused),
new tasks and comments. Positions are renumbered in the plan's order; each task's history
starts with one `created` entry naming the import's source.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.activity.models import task_activity
from taskwell.changes.feed import UPSERT, ChangeFeed
from taskwell.comments.models import comments
from taskwell.http.json_body import dumps
from taskwell.labels.models import labels, task_labels
from taskwell.labels.service import LabelLimitReached
from taskwell.portability.plan import ImportPlan, NewLabel, NewProject, NewTask
from taskwell.portability.repository import PortabilityRepository
from taskwell.portability.schemas import ImportResult
from taskwell.projects.access import ProjectAccess, ProjectNotFound
from taskwell.projects.models import project_members, projects, sections
from taskwell.projects.service import ProjectLimit, SectionLimit
from taskwell.reminders.models import reminders
from taskwell.settings import Settings
from taskwell.tasks.models import TaskStatus, tasks

# The gap between neighbours, as the API leaves it when it appends.
_STEP = 1024.0


class Importer:
    def __init__(
        self,
        settings: Settings,
        repo: PortabilityRepository,
        access: ProjectAccess,
        feed: ChangeFeed,
    ) -> None:
        self._repo = repo
        self._access = access
        self._feed = feed
        self._max_projects = settings.projects_max_per_user
        self._max_sections = settings.sections_max_per_project
        self._max_labels = settings.labels_max_per_user

    async def write(
        self, conn: AsyncConnection, user_id: uuid.UUID, plan: ImportPlan, now: datetime
    ) -> ImportResult:
        await self._repo.lock_user(conn, user_id)
        project_ids, new_projects = await self._projects(conn, user_id, plan.projects, now)
        section_ids = await self._sections(conn, plan.projects, project_ids, now)
        label_ids, new_labels = await self._labels(conn, user_id, plan.labels, now)
        task_ids = await self._tasks(conn, user_id, plan, project_ids, section_ids, label_ids, now)
        task_projects = {task_ids[task.key]: project_ids[task.project] for task in plan.tasks}
        commented = await self._comments(conn, user_id, plan, task_ids, task_projects, now)
        reminded = await self._reminders(conn, user_id, plan, task_ids, now)
        return ImportResult(
            project_ids=new_projects,
            projects=len(new_projects),
            sections=len(section_ids),
            tasks=len(task_ids),
            labels=new_labels,
            comments=commented,
            reminders=reminded,
        )

    async def _projects(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        planned: list[NewProject],
        now: datetime,
    ) -> tuple[dict[uuid.UUID, uuid.UUID], list[uuid.UUID]]:
        """Each planned project's id (the Inbox's is the importer's Inbox), and the new ones."""
        ids: dict[uuid.UUID, uuid.UUID] = {}
        for project in planned:
            if project.into_inbox:
                inbox = await self._inbox(conn, user_id)
                if inbox is None:  # an account older than Inboxes: it becomes a project
                    project.into_inbox = False
                else:
                    ids[project.key] = inbox
        new = [project for project in planned if not project.into_inbox]
        if new and await self._repo.count_memberships(conn, user_id) + len(new) > (
            limit := self._max_projects
        ):
            raise ProjectLimit(
                f"You can be a member of at most {limit} projects; this import adds {len(new)}."
            )
        last = await self._repo.last_member_position(conn, user_id)
        project_rows: list[dict[str, Any]] = []
        member_rows: list[dict[str, Any]] = []
        for i, project in enumerate(sorted(new, key=lambda project: project.order), start=1):
            project_id = ids[project.key] = uuid.uuid4()
            project_rows.append(
                {
                    "id": project_id,
                    "owner_id": user_id,
                    "name": project.name,
                    "color": project.color,
                    "is_inbox": False,
                    "archived_at": now if project.archived else None,
                    "version": 1,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            member_rows.append(
                {
                    "project_id": project_id,
                    "user_id": user_id,
                    "role": "owner",
                    "position": last + _STEP * i,
                    "created_at": now,
                }
            )
        await self._repo.insert(conn, projects, project_rows)
        await self._repo.insert(conn, project_members, member_rows)
        await self._changed(conn, "project", ((row["id"], row["id"]) for row in project_rows), now)
        return ids, [ids[project.key] for project in new]

    async def _changed(
        self,
        conn: AsyncConnection,
        entity: str,
        written: Iterable[tuple[uuid.UUID, uuid.UUID]],
        now: datetime,
    ) -> None:
        """(project, id) pairs into the change feed (GET /sync), one record per project, as
        each feature records its own writes."""
        grouped: dict[uuid.UUID, list[uuid.UUID]] = {}
        for project_id, row_id in written:
            grouped.setdefault(project_id, []).append(row_id)
        for project_id, ids in grouped.items():
            await self._feed.record(conn, entity, ids, UPSERT, now=now, project_id=project_id)

    async def _inbox(self, conn: AsyncConnection, user_id: uuid.UUID) -> uuid.UUID | None:
        try:
            return await self._access.inbox(conn, user_id)
        except ProjectNotFound:
            return None

    async def _sections(
        self,
        conn: AsyncConnection,
        planned: list[NewProject],
        project_ids: dict[uuid.UUID, uuid.UUID],
        now: datetime,
    ) -> dict[uuid.UUID, uuid.UUID]:
        ids: dict[uuid.UUID, uuid.UUID] = {}
        rows: list[dict[str, Any]] = []
        for project in planned:
            if not project.sections:
                continue
            project_id = project_ids[project.key]
            count, last = (
                await self._repo.section_count_and_last(conn, project_id)
                if project.into_inbox
                else (0, 0.0)
            )
            if count + len(project.sections) > self._max_sections:
                raise SectionLimit(
                    f'A project can have at most {self._max_sections} sections; "{project.name}" '
                    f"would have {count + len(project.sections)}."
                )
            ordered = sorted(project.sections, key=lambda section: section.order)
            for j, section in enumerate(ordered, start=1):
                section_id = ids[section.key] = uuid.uuid4()
                rows.append(
                    {
                        "id": section_id,
                        "project_id": project_id,
                        "name": section.name,
                        "position": last + _STEP * j,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
        await self._repo.insert(conn, sections, rows)
        await self._changed(conn, "section", ((row["project_id"], row["id"]) for row in rows), now)
        return ids

    async def _labels(
        self, conn: AsyncConnection, user_id: uuid.UUID, planned: list[NewLabel], now: datetime
    ) -> tuple[dict[uuid.UUID, uuid.UUID], int]:
        """Each planned label's id, reusing the importer's label of the same name (compared as
        labels/service.py compares them), and how many were created."""
        by_name = await self._repo.label_names(conn, user_id)
        ids: dict[uuid.UUID, uuid.UUID] = {}
        rows: list[dict[str, Any]] = []
        for label in planned:
            found = by_name.get(label.name.casefold())
            if found is None:
                found = by_name[label.name.casefold()] = uuid.uuid4()
                rows.append(
                    {
                        "id": found,
                        "owner_id": user_id,
                        "name": label.name,
                        "color": label.color,
                        "version": 1,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            ids[label.key] = found
        if rows and len(by_name) > self._max_labels:
            raise LabelLimitReached(
                f"At most {self._max_labels} labels per user; this import adds {len(rows)} to "
                f"your {len(by_name) - len(rows)}."
            )
        await self._repo.insert(conn, labels, rows)
        await self._feed.record(
            conn, "label", [row["id"] for row in rows], UPSERT, now=now, user_id=user_id
        )
        return ids, len(rows)

    async def _tasks(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        plan: ImportPlan,
        project_ids: dict[uuid.UUID, uuid.UUID],
        section_ids: dict[uuid.UUID, uuid.UUID],
        label_ids: dict[uuid.UUID, uuid.UUID],
        now: datetime,
    ) -> dict[uuid.UUID, uuid.UUID]:
        positions = await self._positions(conn, plan, project_ids)
        zone: str | None = None
        ids: dict[uuid.UUID, uuid.UUID] = {}
        rows: list[dict[str, Any]] = []
        tagged: list[dict[str, Any]] = []
        history: list[dict[str, Any]] = []
        for task in plan.tasks:  # parents first
            task_id = ids[task.key] = uuid.uuid4()
            project_id = project_ids[task.project]
            values = {name: _column(value) for name, value in task.values.items()}
            # A date-time without a zone keeps the importer's, as the task API does.
            if values.get("due_at") is not None and values.get("due_date") is None:
                values["due_timezone"] = values.get("due_timezone") or (
                    zone := zone or await self._repo.time_zone(conn, user_id)
                )
            done = values["status"] == TaskStatus.done.value
            created = task.created_at or now
            rows.append(
                {
                    **values,
                    "id": task_id,
                    "project_id": project_id,
                    "section_id": section_ids[task.section] if task.section is not None else None,
                    "parent_id": ids[task.parent] if task.parent is not None else None,
                    "completed_at": (task.completed_at or now) if done else None,
                    "position": positions[task.key],
                    "assignee_id": user_id if task.assign_to_importer else None,
                    "created_by": user_id,
                    "version": 1,
                    "created_at": created,
                    "updated_at": max(task.updated_at or created, created),
                }
            )
            tagged += [
                {"task_id": task_id, "label_id": label_id}
                for label_id in dict.fromkeys(label_ids[key] for key in task.labels)
            ]
            changes = {
                "title": [None, values["title"]],
                "project_id": [None, str(project_id)],
                "source": [None, plan.source],
            }
            history.append(
                {
                    "id": uuid.uuid4(),
                    "task_id": task_id,
                    "actor_id": user_id,
                    "action": "created",
                    "changes": dumps(changes).decode(),
                    "created_at": now,
                }
            )
        await self._repo.insert(conn, tasks, rows)
        await self._repo.link_occurrences(
            conn,
            [
                (ids[task.key], ids[task.next_occurrence])
                for task in plan.tasks
                if task.next_occurrence is not None
            ],
        )
        await self._repo.insert(conn, task_labels, tagged)
        await self._repo.insert(conn, task_activity, history)
        await self._changed(conn, "task", ((row["project_id"], row["id"]) for row in rows), now)
        return ids

    async def _comments(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        plan: ImportPlan,
        task_ids: dict[uuid.UUID, uuid.UUID],
        task_projects: dict[uuid.UUID, uuid.UUID],
        now: datetime,
    ) -> int:
        """Posted as the importer, at their original times."""
        rows: list[dict[str, Any]] = []
        written: list[tuple[uuid.UUID, uuid.UUID]] = []
        for comment in plan.comments:
            task_id = task_ids[comment.task]
            created = comment.created_at or now
            row_id = uuid.uuid4()
            rows.append(
                {
                    "id": row_id,
                    "task_id": task_id,
                    "author_id": user_id,
                    "body": comment.body,
                    "version": 1,
                    "created_at": created,
                    "updated_at": max(comment.updated_at or created, created),
                }
            )
            written.append((task_projects[task_id], row_id))
        await self._repo.insert(conn, comments, rows)
        await self._changed(conn, "comment", written, now)
        return len(rows)

    async def _reminders(
        self,
        conn: AsyncConnection,
        user_id: uuid.UUID,
        plan: ImportPlan,
        task_ids: dict[uuid.UUID, uuid.UUID],
        now: datetime,
    ) -> int:
        """The exporter's reminders become the importer's (the plan recomputed the relative
        ones from their task's due)."""
        rows: list[dict[str, Any]] = []
        for reminder in plan.reminders:
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "task_id": task_ids[reminder.task],
                    "user_id": user_id,
                    "remind_at": _column(reminder.remind_at),
                    "minutes_before": reminder.minutes_before,
                    "delivered_at": reminder.delivered_at,
                    "created_at": now,
                }
            )
        await self._repo.insert(conn, reminders, rows)
        return len(rows)

    async def _positions(
        self, conn: AsyncConnection, plan: ImportPlan, project_ids: dict[uuid.UUID, uuid.UUID]
    ) -> dict[uuid.UUID, float]:
        """Each task's position: the plan's order, one step apart, after the tasks already in
        the project (the Inbox's)."""
        inbox = {project.key for project in plan.projects if project.into_inbox}
        by_project: dict[uuid.UUID, list[NewTask]] = {}
        for task in plan.tasks:
            by_project.setdefault(task.project, []).append(task)
        positions: dict[uuid.UUID, float] = {}
        for key, members in by_project.items():
            last = (
                await self._repo.last_task_position(conn, project_ids[key]) if key in inbox else 0.0
            )
            for i, task in enumerate(_in_order(members), start=1):
                positions[task.key] = last + _STEP * i
        return positions


def _in_order(planned: Iterable[NewTask]) -> list[NewTask]:
    return sorted(planned, key=lambda task: task.order)


def _column(value: Any) -> Any:
    """A validated value as its column stores it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return value
