"""Import and export rules: what a user may take out (what they see) and bring in (only new
things of their own), the limits, and one transaction per import."""

from __future__ import annotations

import asyncio
import uuid

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.changes.feed import Changed, ChangeFeed
from taskwell.db.engine import Database
from taskwell.db.types import utcnow
from taskwell.errors import MalformedBody
from taskwell.portability.errors import ExportTooLarge, InvalidImport
from taskwell.portability.exporter import Exporter, ExportFile, snapshot
from taskwell.portability.importer import Importer
from taskwell.portability.plan import DocumentPlanner, ImportPlan, schema_problems
from taskwell.portability.repository import PortabilityRepository
from taskwell.portability.schemas import Document, ImportResult
from taskwell.portability.todoist import TodoistPlanner
from taskwell.projects.access import ProjectAccess
from taskwell.settings import Settings


class PortabilityService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        access: ProjectAccess,
        feed: ChangeFeed,
        changed_for: Changed,
    ) -> None:
        self._db = db
        repo = PortabilityRepository()
        self._repo = repo
        self._exporter = Exporter(repo)
        self._importer = Importer(settings, repo, access, feed)
        self._changed_for = changed_for
        self._export_max_tasks = settings.export_max_tasks
        limits = {
            "max_tasks": settings.import_max_tasks,
            "max_comments": settings.import_max_comments,
        }
        self._documents = DocumentPlanner(
            **limits, max_reminders_per_task=settings.reminders_max_per_task
        )
        self._todoist = TodoistPlanner(**limits)

    # Export

    async def export_document(self, user_id: uuid.UUID) -> ExportFile:
        """Everything the user sees, as one JSON document (portability/schemas.py: Document)."""
        async with snapshot(self._db) as conn:
            await self._refuse_too_many(conn, user_id)
            return await self._exporter.document(conn, user_id, utcnow())

    async def export_csv(self, user_id: uuid.UUID) -> ExportFile:
        """The same tasks as rows (portability/csv_format.py)."""
        async with snapshot(self._db) as conn:
            await self._refuse_too_many(conn, user_id)
            return await self._exporter.csv(conn, user_id)

    async def _refuse_too_many(self, conn: AsyncConnection, user_id: uuid.UUID) -> None:
        count = await self._repo.count_tasks(conn, user_id)
        if count > self._export_max_tasks:
            raise ExportTooLarge(
                f"You can see {count} tasks; an export holds at most {self._export_max_tasks}. "
                "Archive or leave projects you do not need, or ask the operator to raise "
                "TASKWELL_EXPORT_MAX_TASKS."
            )

    # Import

    async def import_document(self, user_id: uuid.UUID, body: bytes) -> ImportResult:
        """An export document (version 1), as new projects of the importer's."""
        # Parsing and checking a large document takes a while: off the event loop.
        plan = await asyncio.to_thread(self._plan_document, body)
        return await self._write(user_id, plan)

    def _plan_document(self, body: bytes) -> ImportPlan:
        try:
            document = Document.model_validate_json(body)
        except ValidationError as exc:
            if any(error["type"] == "json_invalid" for error in exc.errors()):
                raise MalformedBody("The body could not be parsed as JSON.") from None
            raise InvalidImport(schema_problems(exc)) from None
        return self._documents.plan(document)

    async def import_todoist(
        self, user_id: uuid.UUID, body: bytes, project_name: str | None
    ) -> ImportResult:
        """A Todoist project's CSV, as one new project (portability/todoist.py)."""
        plan = await asyncio.to_thread(self._todoist.plan, body, project_name)
        return await self._write(user_id, plan)

    async def _write(self, user_id: uuid.UUID, plan: ImportPlan) -> ImportResult:
        async with self._db.transaction(reader=user_id) as conn:
            result = await self._importer.write(conn, user_id, plan, utcnow())
        # Only the importer is a member of what it made (the Inbox included).
        await self._changed_for([user_id])
        return result
