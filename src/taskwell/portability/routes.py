"""HTTP for import and export: parse, call the service, shape the response.

The import bodies are read here rather than by FastAPI: the document is checked as a whole
(paths such as "tasks[3].title" in `errors`), a Todoist file is CSV, and both may be far
larger than other bodies (app.py gives these two routes their own caps, body_limits below).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from taskwell.auth.deps import Context, TasksReader, TasksWriter
from taskwell.auth.session_guard import Principal
from taskwell.db.types import utcnow
from taskwell.errors import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, problem_responses
from taskwell.http import API_V1
from taskwell.http.rate_limit import record
from taskwell.portability.errors import UnsupportedImportType
from taskwell.portability.exporter import ExportFile
from taskwell.portability.schemas import Document, ImportResult
from taskwell.portability.todoist import DEFAULT_PROJECT_NAME
from taskwell.projects.schemas import Name
from taskwell.rum.schemas import inline_schema
from taskwell.settings import Settings

IMPORT_PATH = f"{API_V1}/import"
TODOIST_PATH = f"{API_V1}/import/todoist"
_JSON = "application/json"
_CSV = "text/csv"
# What browsers and tools label a .csv file with.
_CSV_TYPES = frozenset((_CSV, "application/csv", "text/plain", "application/vnd.ms-excel"))

# Any of these routes can meet: no or bad credentials, an API key without the scope, the
# rate limits (the `portability` group counts per user, on top of the usual ones).
router = APIRouter(
    prefix=API_V1, tags=["import and export"], responses=problem_responses(401, 403, 429)
)


def body_limits(settings: Settings) -> dict[tuple[str, str], int]:
    """The import routes' own body caps, for app.py's BodyLimits."""
    return {
        ("POST", IMPORT_PATH): settings.import_max_bytes,
        ("POST", TODOIST_PATH): settings.import_max_bytes,
    }


def json_item_limits(settings: Settings) -> dict[tuple[str, str], int]:
    """The longest array an import document may hold, for app.py's RequestLimitsMiddleware
    (other bodies keep TASKWELL_MAX_JSON_ITEMS)."""
    longest = max(settings.import_max_tasks, settings.import_max_comments, settings.max_json_items)
    return {("POST", IMPORT_PATH): longest}


async def _counted(request: Request, principal: Principal) -> Principal:
    limiter = request.app.state.context.limiter
    state = request.scope.setdefault("state", {})
    record(state, await limiter.check("portability", str(principal.user_id)))
    return principal


async def _exporter(request: Request, principal: TasksReader) -> Principal:
    return await _counted(request, principal)


async def _importer(request: Request, principal: TasksWriter) -> Principal:
    return await _counted(request, principal)


Exporter = Annotated[Principal, Depends(_exporter)]
Importer = Annotated[Principal, Depends(_importer)]


class CsvResponse(Response):
    media_type = "text/csv; charset=utf-8"


_DISPOSITION = {
    "Content-Disposition": {
        "description": 'attachment; filename="…": browsers save the answer as a file',
        "schema": {"type": "string"},
    }
}
_UNSUPPORTED: dict[int | str, dict[str, Any]] = {
    415: {
        "description": "The body is not of the media type the route reads",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
}
_TOO_MANY = problem_responses(409)


def _download(file: ExportFile, media_type: str, filename: str) -> Response:
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "Cache-Control": "no-store",
    }
    if file.in_memory:  # one body: compressed on the way out like any other
        return Response(file.read_all(), media_type=media_type, headers=headers)
    headers["Content-Length"] = str(file.size)
    return StreamingResponse(file.chunks(), media_type=media_type, headers=headers)


def _stamp() -> str:
    return utcnow().strftime("%Y%m%d-%H%M%S")


@router.get(
    "/export",
    response_model=Document,
    responses={200: {"headers": _DISPOSITION}, **_TOO_MANY},
)
async def export_everything(principal: Exporter, ctx: Context) -> Response:
    """All your data as one JSON document (format taskwell-export, version 1): the projects
    you are a member of (archived ones too) with their sections and members, your labels,
    every task in those projects with your labels on it, the tasks' comments, and your
    reminders. The trash is not exported. POST /import reads it back."""
    file = await ctx.portability.export_document(principal.user_id)
    return _download(file, _JSON, f"taskwell-export-{_stamp()}.json")


@router.get(
    "/export/tasks.csv",
    response_class=CsvResponse,
    responses={200: {"headers": _DISPOSITION}, **_TOO_MANY},
)
async def export_tasks_csv(principal: Exporter, ctx: Context) -> Response:
    """The same tasks as CSV, one row per task after a header row: id, project, section,
    parent_id, title, description, status, priority (0-4), due_at, due_date, start_date,
    recurrence, completed_at, labels (your label names, comma-separated), assignee_email,
    created_at, updated_at. UTF-8 with a byte order mark; cells that a spreadsheet would run
    as a formula start with a quote."""
    file = await ctx.portability.export_csv(principal.user_id)
    return _download(file, CsvResponse.media_type, f"taskwell-tasks-{_stamp()}.csv")


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


@router.post(
    "/import",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    responses={**problem_responses(400, 409, 413, 422), **_UNSUPPORTED},
    openapi_extra={
        "requestBody": {"required": True, "content": {_JSON: {"schema": inline_schema(Document)}}}
    },
)
async def import_document(request: Request, principal: Importer, ctx: Context) -> ImportResult:
    """An export document (GET /export, version 1), all of it or, if anything in it is
    invalid (422, `errors` naming each JSON path) or over a limit (409), none of it.

    Everything becomes new and yours: a project for each of its projects (never a change to
    an existing one; the Inbox's sections and tasks go into your Inbox), its sections, its
    labels (your label of the same name, ignoring case, is reused), its tasks with their
    subtasks, sections and labels, and its comments, posted as you; a comment someone else
    wrote starts with a line naming them; your reminders (one already sent is not sent again).
    Tasks assigned to the exporter are assigned to you, others to nobody."""
    if _media_type(request) != _JSON:
        raise UnsupportedImportType("Send the export document as application/json.")
    return await ctx.portability.import_document(principal.user_id, await request.body())


@router.post(
    "/import/todoist",
    status_code=status.HTTP_201_CREATED,
    response_model=ImportResult,
    responses={**problem_responses(409, 413, 422), **_UNSUPPORTED},
    openapi_extra={
        "requestBody": {"required": True, "content": {_CSV: {"schema": {"type": "string"}}}}
    },
)
async def import_todoist(
    request: Request,
    principal: Importer,
    ctx: Context,
    project_name: Annotated[
        Name | None,
        Query(description=f'The new project\'s name (default "{DEFAULT_PROJECT_NAME}")'),
    ] = None,
) -> ImportResult:
    """A Todoist project exported as CSV (TYPE, CONTENT, DESCRIPTION, PRIORITY, INDENT, DATE,
    TIMEZONE, ... columns), as one new project of yours: its sections, tasks and subtasks
    (INDENT), @labels (yours, reused by name), and notes as comments. Todoist's p1 is urgent,
    p2 high, p3 medium, p4 none. ISO dates become due dates; other dates (such as "every
    monday") are kept at the end of the description. A bad row is a 422 naming its row
    number (the header is row 1)."""
    if _media_type(request) not in _CSV_TYPES:
        raise UnsupportedImportType("Send the Todoist CSV file as text/csv.")
    return await ctx.portability.import_todoist(
        principal.user_id, await request.body(), project_name
    )
