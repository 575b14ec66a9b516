"""HTTP for search: parse, call the service, shape the response."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from taskwell.auth.deps import Context, TasksReader
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, none_match
from taskwell.search.schemas import SearchPage, SearchParams
from taskwell.search.service import SearchRequest

router = APIRouter(
    prefix=f"{API_V1}/search",
    tags=["search"],
    responses=problem_responses(400, 401, 403, 422, 429),
)


@router.get(
    "",
    response_model=SearchPage,
    responses={304: {"description": "Not modified: If-None-Match names the current ETag"}},
)
async def search_tasks(
    params: Annotated[SearchParams, Query()],
    principal: TasksReader,
    ctx: Context,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The tasks you can see whose title, description or a comment holds all the words of
    `q`, best match first, filtered, a page at a time (follow `next_cursor`; at most
    TASKWELL_SEARCH_MAX_RESULTS hits in all)."""
    assignee = params.assignee_id
    body = await ctx.search.search(
        principal.user_id,
        SearchRequest(
            text=params.q,
            project_id=params.project_id,
            assignee_id=principal.user_id if assignee == "me" else assignee,
            labels=tuple(params.label),
            statuses=tuple(s.value for s in params.status),
            priorities=tuple(int(p) for p in params.priority),
            due_after=params.due_after,
            due_before=params.due_before,
            cursor=params.cursor,
            limit=params.limit,
        ),
    )
    etag = body_etag(body)
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})
