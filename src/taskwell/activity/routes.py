"""HTTP for a task's activity: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from taskwell.activity.schemas import ActivityPage
from taskwell.auth.deps import Context, TasksReader
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, none_match

router = APIRouter(
    prefix=f"{API_V1}/tasks/{{task_id}}/activity",
    tags=["activity"],
    responses=problem_responses(401, 403, 404, 422, 429),
)


@router.get(
    "",
    response_model=ActivityPage,
    responses={
        304: {"description": "Not modified: If-None-Match names the current ETag"},
        **problem_responses(400),
    },
)
async def list_task_activity(
    task_id: uuid.UUID,
    principal: TasksReader,
    ctx: Context,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: int | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The task's history, newest first, a page at a time (follow `next_cursor`)."""
    body = await ctx.activity.list(principal.user_id, task_id, cursor, limit)
    etag = body_etag(body)
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})
