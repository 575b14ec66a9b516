"""HTTP for tasks: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request, Response, status

from taskwell.auth.deps import OPENAPI_SECURITY, Context, TasksWriter, principal_with_scope
from taskwell.context import AppContext
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, expected_versions, none_match, version_etag
from taskwell.http.query import openapi_parameters, parse_query
from taskwell.tasks.schemas import (
    TASK_FIELDS,
    TaskCreate,
    TaskListParams,
    TaskOut,
    TaskPage,
    TaskPatch,
)
from taskwell.tasks.service import ListFilters, TaskBody

router = APIRouter(prefix=f"{API_V1}/tasks", tags=["tasks"])

_VERSION = TASK_FIELDS.index("version")
_JSON = "application/json"
_ETAG_DOC = {"ETag": {"description": "The task's version as an entity tag"}}


def _task_response(task: TaskBody) -> Response:
    return Response(task.body, media_type=_JSON, headers={"ETag": version_etag(task.version)})


def _not_modified(etag: str) -> Response:
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})


@router.get(
    "",
    response_model=TaskPage,
    openapi_extra={**OPENAPI_SECURITY, "parameters": openapi_parameters(TaskListParams)},
)
async def list_tasks(request: Request) -> Response:
    """Your tasks, filtered and sorted, a page at a time (follow `next_cursor`)."""
    principal = await principal_with_scope(request, "tasks:read")
    params = parse_query(TaskListParams, request)
    ctx: AppContext = request.app.state.context
    body = await ctx.tasks.list(
        principal.user_id,
        ListFilters(
            statuses=tuple(s.value for s in params.status),
            priorities=tuple(int(p) for p in params.priority),
            text=params.q,
            due_before=params.due_before,
            due_after=params.due_after,
            sort=params.sort,
            cursor=params.cursor,
            limit=params.limit,
        ),
    )
    etag = body_etag(body)
    if none_match(request.headers.get("if-none-match"), etag):
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
    openapi_extra=OPENAPI_SECURITY,
)
async def get_task(task_id: uuid.UUID, request: Request) -> Response:
    principal = await principal_with_scope(request, "tasks:read")
    ctx: AppContext = request.app.state.context
    task = await ctx.tasks.get(principal.user_id, task_id)
    etag = version_etag(task.version)
    if none_match(request.headers.get("if-none-match"), etag):
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
