"""HTTP for comments on a task: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status

from taskwell.auth.deps import Context, TasksReader, TasksWriter
from taskwell.comments.schemas import CommentIn, CommentOut, CommentPage
from taskwell.comments.service import CommentBody
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import body_etag, expected_versions, none_match, version_etag

# Any comment route can meet: no or bad credentials, an API key without the scope or a role
# too low, a task (or comment) that is not there, invalid input, the rate limit.
router = APIRouter(
    prefix=f"{API_V1}/tasks/{{task_id}}/comments",
    tags=["comments"],
    responses=problem_responses(401, 403, 404, 422, 429),
)

_JSON = "application/json"
_ETAG_DOC = {"ETag": {"description": "The comment's version as an entity tag"}}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match names the current ETag"}
}


def _comment_response(comment: CommentBody, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(
        comment.body,
        status_code=status_code,
        media_type=_JSON,
        headers={"ETag": version_etag(comment.version)},
    )


@router.get("", response_model=CommentPage, responses={**_NOT_MODIFIED, **problem_responses(400)})
async def list_comments(
    task_id: uuid.UUID,
    principal: TasksReader,
    ctx: Context,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    limit: int | None = None,
    if_none_match: Annotated[str | None, Header()] = None,
) -> Response:
    """The task's comments, oldest first, a page at a time (follow `next_cursor`)."""
    body = await ctx.comments.list(principal.user_id, task_id, cursor, limit)
    etag = body_etag(body)
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    return Response(body, media_type=_JSON, headers={"ETag": etag})


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CommentOut,
    responses={201: {"headers": _ETAG_DOC}, **problem_responses(400, 413)},
)
async def create_comment(
    task_id: uuid.UUID, body: CommentIn, principal: TasksWriter, ctx: Context
) -> Response:
    """Comment on a task (owners and editors of its project)."""
    comment = await ctx.comments.create(principal.user_id, task_id, body.body)
    return _comment_response(comment, status.HTTP_201_CREATED)


@router.patch(
    "/{comment_id}",
    response_model=CommentOut,
    responses={200: {"headers": _ETAG_DOC}, **problem_responses(400, 412, 413)},
)
async def edit_comment(
    task_id: uuid.UUID,
    comment_id: uuid.UUID,
    body: CommentIn,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Change the text of your own comment."""
    comment = await ctx.comments.edit(
        principal.user_id, task_id, comment_id, body.body, expected_versions(if_match)
    )
    return _comment_response(comment)


@router.delete(
    "/{comment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(412),
)
async def delete_comment(
    task_id: uuid.UUID,
    comment_id: uuid.UUID,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    """Delete your own comment."""
    await ctx.comments.delete(principal.user_id, task_id, comment_id, expected_versions(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
