"""HTTP for the signed-in user's profile and avatar, and for avatar images."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from taskwell.auth.deps import AccountReader, Context, CurrentPrincipal
from taskwell.errors import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, problem_responses
from taskwell.http import API_V1
from taskwell.http.conditional import none_match
from taskwell.users.avatars import AvatarService
from taskwell.users.images import FORMATS
from taskwell.users.schemas import ProfileOut, UserPatch

router = APIRouter(prefix=API_V1, tags=["users"])

# The one route whose body may exceed TASKWELL_MAX_BODY_BYTES (app.py gives it its own cap).
AVATAR_PATH = f"{API_V1}/users/me/avatar"
# The URL names one version of the picture, so it may be kept for good; private, because
# reading it needs a signed-in user.
_IMMUTABLE = "private, max-age=31536000, immutable"


def avatar_service(ctx: Context) -> AvatarService:
    return ctx.avatars


Avatars = Annotated[AvatarService, Depends(avatar_service)]

_UNSUPPORTED_TYPE: dict[int | str, dict[str, Any]] = {
    415: {
        "description": "Content-Type is not one of the accepted image types",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
}
_IMAGE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "The image's bytes (at most TASKWELL_AVATAR_MAX_BYTES).",
        "content": {
            media_type: {"schema": {"type": "string", "format": "binary"}}
            for media_type in sorted(FORMATS)
        },
    }
}


@router.get("/users/me", response_model=ProfileOut, responses=problem_responses(401, 403, 429))
async def read_me(principal: AccountReader, ctx: Context, response: Response) -> ProfileOut:
    response.headers["Cache-Control"] = "no-store"
    return ProfileOut.of_profile(await ctx.users.profile(principal))


@router.patch(
    "/users/me",
    response_model=ProfileOut,
    # 401 also answers a wrong `current_password`; 409, an email another account uses.
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
)
async def update_me(
    body: UserPatch, principal: CurrentPrincipal, ctx: Context, response: Response
) -> ProfileOut:
    response.headers["Cache-Control"] = "no-store"
    profile = await ctx.users.update_me(
        principal,
        display_name=body.display_name,
        email=str(body.email) if body.email is not None else None,
        current_password=body.current_password,
        time_zone=body.time_zone,
    )
    return ProfileOut.of_profile(profile)


@router.put(
    "/users/me/avatar",
    response_model=ProfileOut,
    # 422: not a decodable image of the declared type (`invalid-image`), or too many pixels
    # (`image-too-large`).
    responses={**problem_responses(401, 403, 413, 422, 429), **_UNSUPPORTED_TYPE},
    openapi_extra=_IMAGE_BODY,
)
async def upload_avatar(
    request: Request,
    principal: CurrentPrincipal,
    ctx: Context,
    avatars: Avatars,
    response: Response,
) -> ProfileOut:
    """Replace the avatar with the body's image (PNG, JPEG, WebP or GIF; the first frame of an
    animation). It is re-encoded: the centre square, as WebP, without metadata."""
    response.headers["Cache-Control"] = "no-store"
    await avatars.upload(principal, request.headers.get("content-type"), request.body)
    return ProfileOut.of_profile(await ctx.users.profile(principal))


@router.delete("/users/me/avatar", status_code=204, responses=problem_responses(401, 403, 429))
async def delete_avatar(principal: CurrentPrincipal, avatars: Avatars) -> Response:
    await avatars.remove(principal)
    return Response(status_code=204)


@router.get(
    "/avatars/{user_id}/{size}.webp",
    response_class=Response,
    responses={
        200: {"content": {"image/webp": {"schema": {"type": "string", "format": "binary"}}}},
        304: {"description": "If-None-Match names this image"},
        **problem_responses(401, 403, 404, 422, 429),
    },
)
async def read_avatar(
    request: Request,
    user_id: uuid.UUID,
    size: int,
    _principal: AccountReader,
    avatars: Avatars,
    v: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The avatar version")] = None,
) -> Response:
    """One size (96 or 192) of a user's avatar, as the `avatar` URLs of /users/me name it."""
    image = await avatars.image(user_id, size)
    etag = f'"a{image.version}-{size}"'
    # Only the current version's address may be cached for good; an old or bare address
    # answers with the current picture and must be asked again next time.
    headers = {
        "ETag": etag,
        "Cache-Control": _IMMUTABLE if v == image.version else "private, no-cache",
    }
    if none_match(request.headers.get("if-none-match"), etag):
        return Response(status_code=304, headers=headers)
    return Response(image.body, media_type="image/webp", headers=headers)
