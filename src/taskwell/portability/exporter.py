"""Writing an export: read in one snapshot, page by page, into a temporary file.

Memory stays bounded by the page size whatever the user holds, and the database connection is
released as soon as the reading is done: a slow download streams from the file, not from the
database.
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from sqlalchemy.ext.asyncio import AsyncConnection

from taskwell.db.engine import Database
from taskwell.http.json_body import dumps
from taskwell.portability import csv_format
from taskwell.portability.repository import BATCH, PortabilityRepository
from taskwell.portability.schemas import FORMAT, TASK_FIELDS, VERSION

# Kept in memory up to this size, then on disk.
SPOOL_MEMORY_BYTES = 1_048_576
_CHUNK = 65_536


@dataclass(slots=True)
class ExportFile:
    """A written export, read from the start; the caller closes it."""

    file: IO[bytes]
    size: int
    in_memory: bool

    def read_all(self) -> bytes:
        try:
            return self.file.read()
        finally:
            self.file.close()

    async def chunks(self) -> AsyncIterator[bytes]:
        try:
            while chunk := self.file.read(_CHUNK):
                yield chunk
        finally:
            self.file.close()

    def close(self) -> None:
        self.file.close()


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY_BYTES)


def _finished(out: IO[bytes]) -> ExportFile:
    size = out.tell()
    out.seek(0)
    # The spool moves to disk once it grows past its memory size.
    return ExportFile(out, size, in_memory=size <= SPOOL_MEMORY_BYTES)


@asynccontextmanager
async def snapshot(db: Database) -> AsyncIterator[AsyncConnection]:
    """One read-only transaction that sees the data as of its start (PostgreSQL: REPEATABLE
    READ; SQLite: its transaction already holds the database still)."""
    async with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        yield conn


class Exporter:
    def __init__(self, repo: PortabilityRepository) -> None:
        self._repo = repo

    async def tasks(
        self, conn: AsyncConnection, user_id: uuid.UUID, project_id: uuid.UUID
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The project's live tasks a page at a time, as the document writes them."""
        after: tuple[datetime, uuid.UUID] | None = None
        while True:
            page = await self._repo.tasks(conn, project_id, after)
            if not page:
                return
            labels = await self._repo.label_ids(conn, user_id, [row["id"] for row in page])
            yield [_task(row, labels.get(str(row["id"]), [])) for row in page]
            if len(page) < BATCH:
                return
            after = (page[-1]["created_at"], page[-1]["id"])

    async def document(
        self, conn: AsyncConnection, user_id: uuid.UUID, now: datetime
    ) -> ExportFile:
        # Comments and reminders follow the tasks in the document but are read with each
        # page of tasks: they wait in files of their own.
        out, comments, reminders = _spool(), _spool(), _spool()
        try:
            user = await self._repo.user(conn, user_id)
            projects = await self._repo.projects(conn, user_id)
            out.write(b'{"format":' + dumps(FORMAT) + b',"version":' + dumps(VERSION))
            out.write(b',"exported_at":' + dumps(now) + b',"user":' + dumps(user))
            out.write(b',"projects":[')
            for i, project in enumerate(projects):
                sections = await self._repo.sections(conn, project["id"])
                members = await self._repo.members(conn, project["id"])
                item = {**project, "sections": sections, "members": members}
                out.write((b"," if i else b"") + dumps(item))
            out.write(b'],"labels":' + dumps(await self._repo.labels(conn, user_id)))
            out.write(b',"tasks":[')
            first_task = first_comment = first_reminder = True
            for project in projects:
                async for page in self.tasks(conn, user_id, project["id"]):
                    first_task = _write_items(out, page, first_task)
                    ids = [task["id"] for task in page]
                    async for found in self._comments(conn, ids):
                        first_comment = _write_items(comments, found, first_comment)
                    found = await self._repo.reminders(conn, user_id, ids)
                    first_reminder = _write_items(reminders, found, first_reminder)
            for name, part in ((b"comments", comments), (b"reminders", reminders)):
                out.write(b'],"' + name + b'":[')
                part.seek(0)
                shutil.copyfileobj(part, out)
            out.write(b"]}")
        except BaseException:
            out.close()
            raise
        finally:
            comments.close()
            reminders.close()
        return _finished(out)

    async def _comments(
        self, conn: AsyncConnection, task_ids: list[uuid.UUID]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        after: tuple[uuid.UUID, datetime, uuid.UUID] | None = None
        while True:
            page = await self._repo.comments(conn, task_ids, after)
            if not page:
                return
            yield page
            if len(page) < BATCH:
                return
            last = page[-1]
            after = (last["task_id"], last["created_at"], last["id"])

    async def csv(self, conn: AsyncConnection, user_id: uuid.UUID) -> ExportFile:
        out = _spool()
        try:
            out.write(csv_format.header())
            names = csv_format.Names()
            names.labels = {
                str(label["id"]): label["name"] for label in await self._repo.labels(conn, user_id)
            }
            for project in await self._repo.projects(conn, user_id):
                names.projects = {str(project["id"]): project["name"]}
                names.sections = {
                    str(s["id"]): s["name"] for s in await self._repo.sections(conn, project["id"])
                }
                names.emails = {
                    str(m["user_id"]): m["email"]
                    for m in await self._repo.members(conn, project["id"])
                }
                async for page in self.tasks(conn, user_id, project["id"]):
                    out.write(csv_format.rows(page, names))
        except BaseException:
            out.close()
            raise
        return _finished(out)


def _task(row: dict[str, Any], labels: list[str]) -> dict[str, Any]:
    task: dict[str, Any] = {name: row[name] if name != "labels" else labels for name in TASK_FIELDS}
    # SQLite hands back REAL values as written: 1024 rather than 1024.0.
    task["position"] = float(task["position"])
    return task


def _write_items(out: IO[bytes], items: Iterable[dict[str, Any]], first: bool) -> bool:
    """Append items to a JSON array being written; whether the array is still empty."""
    for item in items:
        out.write((b"" if first else b",") + dumps(item))
        first = False
    return first
