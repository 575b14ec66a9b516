"""HTTP for incremental sync."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from taskwell.auth.deps import Context, TasksReader
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.json_body import dumps

router = APIRouter(
    prefix=API_V1, tags=["sync"], responses=problem_responses(400, 401, 403, 410, 422, 429)
)


@router.get("/sync")
async def sync(
    principal: TasksReader,
    ctx: Context,
    since: Annotated[str | None, Query(max_length=256)] = None,
    limit: Annotated[int | None, Query()] = None,
) -> Response:
    """Every change since `since` to tasks, projects, sections, comments and labels you can
    see: `changes` holds each changed thing once, as its current state (`op: upsert`, `data`)
    or a tombstone (`op: delete`, also for things you can no longer see). Keep `token` for the
    next call; while `has_more`, call again at once. Without `since`: no changes, just a token
    to start from (take it *before* loading everything, so nothing falls between)."""
    body = await ctx.sync.sync(principal.user_id, since, limit)
    return Response(
        dumps(body), media_type="application/json", headers={"Cache-Control": "no-store"}
    )
