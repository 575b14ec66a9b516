"""HTTP for tasks: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header, Request, Response, status
from fastapi.routing import APIRoute

from taskwell.auth.deps import OPENAPI_SECURITY, Context, TasksWriter, principal_with_scope
from taskwell.context import AppContext
from taskwell.errors import Conflict, problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, expected_versions, none_match, version_etag
from taskwell.http.json_body import dumps
from taskwell.http.query import openapi_parameters, parse_query
from taskwell.tasks.schemas import (
    BulkRequest,
    TaskCreate,
    TaskListParams,
    TaskOut,
    TaskPage,
    TaskPatch,
)
from taskwell.tasks.service import ListFilters, TaskBody

# Any task route can meet: no or bad credentials, an API key without the scope, invalid
# input, the rate limit. Each route adds the problems only it can answer with.
router = APIRouter(
    prefix=f"{API_V1}/tasks", tags=["tasks"], responses=problem_responses(401, 403, 422, 429)
)

_JSON = "application/json"
_ETAG_DOC = {"ETag": {"description": "The task's version as an entity tag"}}
# The hot reads read this header themselves (no FastAPI parameter), so it is declared here.
_IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "An ETag from an earlier answer; if it is still current, the answer is 304",
}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match names the current ETag"}
}


class BulkFailed(Conflict):
    slug, title, status = "bulk-failed", "Some items of the bulk change could not be done", 409


def jsonable(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: str(v) if isinstance(v, uuid.UUID) else v for k, v in r.items()} for r in results]


def _task_response(task: TaskBody) -> Response:
    return Response(task.body, media_type=_JSON, headers={"ETag": version_etag(task.version)})


def _not_modified(etag: str) -> Response:
    return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})


@router.get(
    "",
    response_model=TaskPage,
    responses={**_NOT_MODIFIED, **problem_responses(400)},
    openapi_extra={
        **OPENAPI_SECURITY,
        "parameters": [*openapi_parameters(TaskListParams), _IF_NONE_MATCH],
    },
)
async def list_tasks(request: Request) -> Response:
    """The tasks you can see, filtered and sorted, a page at a time (follow `next_cursor`).

    Without `project_id`: the tasks of every project you are a member of that is neither
    archived nor in the trash. With it: that project's tasks (archived or not)."""
    principal = await principal_with_scope(request, "tasks:read")
    params = parse_query(TaskListParams, request)
    ctx: AppContext = request.app.state.context
    assignee = params.assignee_id
    body = await ctx.tasks.list(
        principal.user_id,
        ListFilters(
            project_id=params.project_id,
            section_id=params.section_id,
            parent_id=params.parent_id,
            assignee_id=principal.user_id if assignee == "me" else assignee,
            labels=tuple(params.label),
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
    responses={201: {"headers": _ETAG_DOC}, **problem_responses(400, 404, 409, 413)},
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


@router.post("/bulk", responses=problem_responses(409, 413))
async def bulk_tasks(body: BulkRequest, principal: TasksWriter, ctx: Context) -> Response:
    """Complete, move, label or delete up to 500 tasks at once, atomically: 200 when every
    item was done, else 409 `bulk-failed` with nothing done. Either way `results` has one
    entry per item, in order: its status, and for a failed item its problem."""
    result = await ctx.tasks.bulk(principal.user_id, body)
    if result.applied:
        return Response(dumps({"applied": True, "results": result.results}), media_type=_JSON)
    raise BulkFailed(
        "Some items could not be done, so none was; see `results`.",
        extra={"applied": False, "results": jsonable(result.results)},
    )


@router.get(
    "/{task_id}",
    response_model=TaskOut,
    name="get_task",
    responses={**_NOT_MODIFIED, **problem_responses(404)},
    openapi_extra={**OPENAPI_SECURITY, "parameters": [_IF_NONE_MATCH]},
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
    "/{task_id}",
    response_model=TaskOut,
    responses=problem_responses(400, 404, 412, 413),
)
async def update_task(
    task_id: uuid.UUID,
    body: TaskPatch,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Change a task (editor or owner of its project). Setting `project_id` moves it, with
    its subtasks; `children` says whether completing it completes its open subtasks."""
    task = await ctx.tasks.update(
        principal.user_id, task_id, body.changes(), expected_versions(if_match), body.children
    )
    return _task_response(task)


@router.delete(
    "/{task_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 412),
)
async def delete_task(
    task_id: uuid.UUID,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """To the trash with its subtasks, restorable for TASKWELL_TRASH_RETENTION_DAYS."""
    await ctx.tasks.delete(principal.user_id, task_id, expected_versions(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{task_id}/restore", response_model=TaskOut, responses=problem_responses(404))
async def restore_task(task_id: uuid.UUID, principal: TasksWriter, ctx: Context) -> Response:
    """Back from the trash, with the subtasks deleted along with it."""
    return _task_response(await ctx.tasks.restore(principal.user_id, task_id))


def hot_routes() -> list[APIRoute]:
    """The reads served past FastAPI's router (http/hot_routes.py): GET /tasks and
    GET /tasks/{task_id}. Their endpoints take the Request and the path parameters only."""
    hot = {"list_tasks", "get_task"}
    return [r for r in router.routes if isinstance(r, APIRoute) and r.name in hot]
