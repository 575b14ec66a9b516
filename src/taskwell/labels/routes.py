"""HTTP for labels: parse, call the service, shape the response."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response, status

from taskwell.auth.deps import Context, TasksReader, TasksWriter
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import expected_versions, none_match, version_etag
from taskwell.labels.schemas import LabelCreate, LabelList, LabelOut, LabelPatch

# Any label route can meet: no or bad credentials, an API key without the scope, invalid
# input, the rate limit. Each route adds the problems only it can answer with.
router = APIRouter(
    prefix=f"{API_V1}/labels", tags=["labels"], responses=problem_responses(401, 403, 422, 429)
)

_ETAG_DOC = {"ETag": {"description": "The label's version as an entity tag"}}
_NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: If-None-Match names the current ETag"}
}


@router.get("", response_model=LabelList)
async def list_labels(principal: TasksReader, ctx: Context) -> LabelList:
    """All your labels, by name (ignoring case)."""
    labels = await ctx.labels.list(principal.user_id)
    return LabelList(items=[LabelOut.of(label) for label in labels])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=LabelOut,
    responses={201: {"headers": _ETAG_DOC}, **problem_responses(400, 409, 413)},
)
async def create_label(
    body: LabelCreate, principal: TasksWriter, ctx: Context, request: Request, response: Response
) -> LabelOut:
    label = await ctx.labels.create(principal.user_id, name=body.name, color=body.color)
    await ctx.tasks.changed_for([principal.user_id])
    response.headers["ETag"] = version_etag(label.version)
    response.headers["Location"] = str(request.url_for("get_label", label_id=str(label.id)))
    return LabelOut.of(label)


@router.get(
    "/{label_id}",
    response_model=LabelOut,
    name="get_label",
    responses={200: {"headers": _ETAG_DOC}, **_NOT_MODIFIED, **problem_responses(404)},
)
async def get_label(
    label_id: uuid.UUID,
    principal: TasksReader,
    ctx: Context,
    response: Response,
    if_none_match: Annotated[str | None, Header()] = None,
) -> LabelOut | Response:
    label = await ctx.labels.get(principal.user_id, label_id)
    etag = version_etag(label.version)
    if none_match(if_none_match, etag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
    response.headers["ETag"] = etag
    return LabelOut.of(label)


@router.patch(
    "/{label_id}",
    response_model=LabelOut,
    responses={200: {"headers": _ETAG_DOC}, **problem_responses(400, 404, 409, 412, 413)},
)
async def update_label(
    label_id: uuid.UUID,
    body: LabelPatch,
    principal: TasksWriter,
    ctx: Context,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> LabelOut:
    label = await ctx.labels.update(
        principal.user_id, label_id, body.changes(), expected_versions(if_match)
    )
    # A renamed label shows on every task it is on: the owner's cached tasks and pages go.
    await ctx.tasks.changed_for([principal.user_id])
    response.headers["ETag"] = version_etag(label.version)
    return LabelOut.of(label)


@router.delete(
    "/{label_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(404, 412),
)
async def delete_label(
    label_id: uuid.UUID,
    principal: TasksWriter,
    ctx: Context,
    if_match: Annotated[str | None, Header()] = None,
) -> Response:
    await ctx.labels.delete(principal.user_id, label_id, expected_versions(if_match))
    # The label leaves every task it was on: the owner's cached tasks and pages go.
    await ctx.tasks.changed_for([principal.user_id])
    return Response(status_code=status.HTTP_204_NO_CONTENT)
