"""HTTP for tasks: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Header, Query, Request, Response, status

from taskwell.auth.deps import Context, TasksReader, TasksWriter
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, expected_versions, none_match, version_etag
from taskwell.tasks.models import Priority, TaskStatus
from taskwell.tasks.schemas import (
    TASK_FIELDS,
    Instant,
    TaskCreate,
    TaskOut,
    TaskPage,
    TaskPatch,
)
from taskwell.tasks.service import ListFilters, TaskBody
from taskwell.validation import CleanStr

router = APIRouter(prefix=f"{API_V1}/tasks", tags=["tasks"])

SortKey = Literal[
    "created_at",
    "-created_at",
    "updated_at",
    "-updated_at",
    "due_at",
    "-due_at",
    "priority",
    "-priority",
    "position",
    "-position",
]
_VERSION = TASK_FIELDS.index("version")
_JSON = "application/json"
_ETAG_DOC = {"ETag": {"description": "The task's version as an entity tag"}}


def _task_response(task: TaskBody) -> Response:
    return Response(task.body, media_type=_JSON, headers={"ETag": version_etag(task.version)})


def _not_modified(etag: str) -> Response:
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})


@router.get("", response_model=TaskPage)
async def list_tasks(
    principal: TasksReader,
    ctx: Context,
    status_: Annotated[list[TaskStatus], Query(alias="status")] = [],  # noqa: B006
    priority: Annotated[list[Priority], Query()] = [],  # noqa: B006
    q: Annotated[CleanStr | None, Query(min_length=1, max_length=200)] = None,
    due_before: Instant | None = None,
    due_after: Instant | None = None,
    sort: SortKey = "created_at",
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: int | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    body = await ctx.tasks.list(
        principal.user_id,
        ListFilters(
            statuses=tuple(s.value for s in status_),
            priorities=tuple(int(p) for p in priority),
            text=q,
            due_before=due_before,
            due_after=due_after,
            sort=sort,
            cursor=cursor,
            limit=limit,
        ),
    )
    etag = body_etag(body)
    if none_match(if_none_match, etag):
        return _not_modified(etag)
    return Response(body, media_type=_JSON, headers={"ETag": etag})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=TaskOut,
    responses={201: {"headers": _ETAG_DOC}},
)
async def create_task(
    body: TaskCreate,
    principal: TasksWriter,
    ctx: Context,
    request: Request,
    # Its shape is checked by the service, so a bad key is the documented 400, not a 422.
    idempotency_key: Annotated[str | None, Header()] = None,
) -> Response:
    created = await ctx.tasks.create(principal.user_id, body, idempotency_key)
    task = orjson.loads(created.body)
    headers = {
        "ETag": version_etag(int(task["version"])),
        "Location": str(request.url_for("get_task", task_id=task["id"])),
    }
    if created.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(
        created.body, status_code=created.status_code, media_type=_JSON, headers=headers
    )


@router.get(
    "/{task_id}",
    response_model=TaskOut,
    name="get_task",
    responses={304: {"description": "Not modified"}},
)
async def get_task(
    task_id: uuid.UUID,
    principal: TasksReader,
    ctx: Context,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    task = await ctx.tasks.get(principal.user_id, task_id)
    etag = version_etag(task.version)
    if none_match(if_none_match, etag):
        return _not_modified(etag)
    return _task_response(task)


@router.patch(
    "/{task_id}", response_model=TaskOut, responses={412: {"description": "Version mismatch"}}
)
async def update_task(
    task_id: uuid.UUID,
    body: TaskPatch,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    task = await ctx.tasks.update(
        principal.user_id, task_id, body.changes(), expected_versions(if_match)
    )
    return _task_response(task)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={412: {"description": "Version mismatch"}},
)
async def delete_task(
    task_id: uuid.UUID,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await ctx.tasks.delete(principal.user_id, task_id, expected_versions(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
