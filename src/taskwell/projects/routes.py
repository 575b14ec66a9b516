"""HTTP for projects, their sections and members, and the trash."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request, Response, status

from taskwell.auth.deps import Context, TasksReader, TasksWriter
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import expected_versions, version_etag
from taskwell.http.json_body import dumps
from taskwell.projects.schemas import (
    MemberInvite,
    MemberPatch,
    ProjectCreate,
    ProjectPatch,
    SectionCreate,
    SectionPatch,
    Transfer,
)

router = APIRouter(
    prefix=f"{API_V1}/projects",
    tags=["projects"],
    responses=problem_responses(401, 403, 404, 422, 429),
)
trash_router = APIRouter(
    prefix=f"{API_V1}/trash", tags=["projects"], responses=problem_responses(401, 403, 422, 429)
)

_JSON = "application/json"
IfMatch = Annotated[str | None, Header()]


def _json(payload: Any, *, status_code: int = 200, version: int | None = None) -> Response:
    headers = {} if version is None else {"ETag": version_etag(version)}
    return Response(dumps(payload), status_code=status_code, media_type=_JSON, headers=headers)


@router.get("")
async def list_projects(
    principal: TasksReader, ctx: Context, archived: Annotated[bool, Query()] = False
) -> Response:
    """The projects you are a member of, your Inbox first, then in your own order."""
    return _json({"items": await ctx.projects.list(principal.user_id, archived=archived)})


@router.post("", status_code=status.HTTP_201_CREATED, responses=problem_responses(409, 413))
async def create_project(
    body: ProjectCreate, principal: TasksWriter, ctx: Context, request: Request
) -> Response:
    project = await ctx.projects.create(principal.user_id, body)
    response = _json(project, status_code=201, version=project["version"])
    response.headers["Location"] = str(request.url_for("get_project", project_id=project["id"]))
    return response


@router.get("/{project_id}", name="get_project")
async def get_project(project_id: uuid.UUID, principal: TasksReader, ctx: Context) -> Response:
    project = await ctx.projects.get(principal.user_id, project_id)
    return _json(project, version=project["version"])


@router.patch("/{project_id}", responses=problem_responses(409, 412, 413))
async def update_project(
    project_id: uuid.UUID,
    body: ProjectPatch,
    principal: TasksWriter,
    ctx: Context,
    if_match: IfMatch = None,
) -> Response:
    """Owners rename, recolour and archive; every member sets their own `position`."""
    project = await ctx.projects.update(
        principal.user_id, project_id, body, expected_versions(if_match)
    )
    return _json(project, version=project["version"])


@router.delete(
    "/{project_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problem_responses(409, 412)
)
async def delete_project(
    project_id: uuid.UUID, principal: TasksWriter, ctx: Context, if_match: IfMatch = None
) -> Response:
    """To the trash, restorable for TASKWELL_TRASH_RETENTION_DAYS (owner only)."""
    await ctx.projects.delete(principal.user_id, project_id, expected_versions(if_match))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{project_id}/restore")
async def restore_project(project_id: uuid.UUID, principal: TasksWriter, ctx: Context) -> Response:
    project = await ctx.projects.restore(principal.user_id, project_id)
    return _json(project, version=project["version"])


@router.post("/{project_id}/transfer", responses=problem_responses(409))
async def transfer_project(
    project_id: uuid.UUID, body: Transfer, principal: TasksWriter, ctx: Context
) -> Response:
    """Make another member the owner; you become an editor."""
    project = await ctx.projects.transfer(principal.user_id, project_id, body.user_id)
    await ctx.audit.record(
        "project.transferred",
        actor=principal,
        target=str(project_id),
        details={"to": str(body.user_id)},
    )
    return _json(project, version=project["version"])


# Members


@router.get("/{project_id}/members")
async def list_members(project_id: uuid.UUID, principal: TasksReader, ctx: Context) -> Response:
    return _json({"items": await ctx.projects.members(principal.user_id, project_id)})


@router.post(
    "/{project_id}/members",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 413),
)
async def add_member(
    project_id: uuid.UUID, body: MemberInvite, principal: TasksWriter, ctx: Context
) -> Response:
    """Share the project with an existing account, as editor or viewer (owner only)."""
    member = await ctx.projects.invite(principal.user_id, project_id, body)
    await ctx.audit.record(
        "project.member_added",
        actor=principal,
        target=str(project_id),
        details={"user_id": str(member["user_id"]), "role": body.role},
    )
    return _json(member, status_code=201)


@router.patch("/{project_id}/members/{user_id}", responses=problem_responses(409, 413))
async def change_member(
    project_id: uuid.UUID,
    user_id: uuid.UUID,
    body: MemberPatch,
    principal: TasksWriter,
    ctx: Context,
) -> Response:
    member = await ctx.projects.change_role(principal.user_id, project_id, user_id, body.role)
    await ctx.audit.record(
        "project.member_role_changed",
        actor=principal,
        target=str(project_id),
        details={"user_id": str(user_id), "role": body.role},
    )
    return _json(member)


@router.delete(
    "/{project_id}/members/{user_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(409),
)
async def remove_member(
    project_id: uuid.UUID, user_id: uuid.UUID, principal: TasksWriter, ctx: Context
) -> Response:
    """The owner removes a member; a member removes themself to leave."""
    await ctx.projects.remove(principal.user_id, project_id, user_id)
    await ctx.audit.record(
        "project.member_removed" if user_id != principal.user_id else "project.left",
        actor=principal,
        target=str(project_id),
        details={"user_id": str(user_id)},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Sections


@router.get("/{project_id}/sections")
async def list_sections(project_id: uuid.UUID, principal: TasksReader, ctx: Context) -> Response:
    return _json({"items": await ctx.projects.sections(principal.user_id, project_id)})


@router.post(
    "/{project_id}/sections",
    status_code=status.HTTP_201_CREATED,
    responses=problem_responses(409, 413),
)
async def create_section(
    project_id: uuid.UUID, body: SectionCreate, principal: TasksWriter, ctx: Context
) -> Response:
    section = await ctx.projects.create_section(principal.user_id, project_id, body)
    return _json(section, status_code=201, version=section["version"])


@router.patch("/{project_id}/sections/{section_id}", responses=problem_responses(412, 413))
async def update_section(
    project_id: uuid.UUID,
    section_id: uuid.UUID,
    body: SectionPatch,
    principal: TasksWriter,
    ctx: Context,
    if_match: IfMatch = None,
) -> Response:
    section = await ctx.projects.update_section(
        principal.user_id, project_id, section_id, body, expected_versions(if_match)
    )
    return _json(section, version=section["version"])


@router.delete(
    "/{project_id}/sections/{section_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(412),
)
async def delete_section(
    project_id: uuid.UUID,
    section_id: uuid.UUID,
    principal: TasksWriter,
    ctx: Context,
    if_match: IfMatch = None,
) -> Response:
    """Its tasks stay in the project, out of any section."""
    await ctx.projects.delete_section(
        principal.user_id, project_id, section_id, expected_versions(if_match)
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# Trash


@trash_router.get("")
async def list_trash(
    principal: TasksReader,
    ctx: Context,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> Response:
    """Deleted tasks you may restore (editor or owner of their project), and deleted
    projects you own, most recent first, each with the time it will be purged."""
    return _json(
        {
            "tasks": await ctx.tasks.trash(principal.user_id, limit),
            "projects": await ctx.projects.trash(principal.user_id),
        }
    )
