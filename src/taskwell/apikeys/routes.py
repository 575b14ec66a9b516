"""HTTP for API keys: created, listed and revoked from a signed-in session only."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response, status

from taskwell.apikeys.schemas import ApiKeyCreated, ApiKeyIn, ApiKeyOut
from taskwell.auth.deps import Context, CurrentPrincipal
from taskwell.errors import problem_responses
from taskwell.http import API_V1

router = APIRouter(
    prefix=f"{API_V1}/api-keys",
    tags=["api-keys"],
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429),
)


@router.post("", status_code=status.HTTP_201_CREATED, response_model=ApiKeyCreated)
async def create_api_key(
    body: ApiKeyIn, principal: CurrentPrincipal, ctx: Context
) -> ApiKeyCreated:
    created = await ctx.api_keys.create(
        principal.user_id, name=body.name, scopes=list(body.scopes), expires_at=body.expires_at
    )
    await ctx.audit.record(
        "api_key.created", actor=principal, target=str(created.key.id), details={"name": body.name}
    )
    return ApiKeyCreated(**ApiKeyOut.of(created.key).model_dump(), key=created.secret)


@router.get("", response_model=list[ApiKeyOut])
async def list_api_keys(principal: CurrentPrincipal, ctx: Context) -> list[ApiKeyOut]:
    return [ApiKeyOut.of(key) for key in await ctx.api_keys.list(principal.user_id)]


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_api_key(key_id: uuid.UUID, principal: CurrentPrincipal, ctx: Context) -> Response:
    key = await ctx.api_keys.revoke(principal.user_id, key_id)
    await ctx.audit.record(
        "api_key.revoked", actor=principal, target=str(key.id), details={"name": key.name}
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
