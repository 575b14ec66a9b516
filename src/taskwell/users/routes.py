"""HTTP for the signed-in user's profile."""

from __future__ import annotations

from fastapi import APIRouter, Response

from taskwell.auth.deps import AccountReader, Context, CurrentPrincipal
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.users.schemas import UserOut, UserPatch

router = APIRouter(prefix=API_V1, tags=["users"])


@router.get("/users/me", response_model=UserOut, responses=problem_responses(401, 403, 429))
async def read_me(principal: AccountReader, ctx: Context, response: Response) -> UserOut:
    response.headers["Cache-Control"] = "no-store"
    return UserOut.of(await ctx.users.me(principal))


@router.patch(
    "/users/me",
    response_model=UserOut,
    # 401 also answers a wrong `current_password`; 409, an email another account uses.
    responses=problem_responses(400, 401, 403, 409, 413, 422, 429),
)
async def update_me(
    body: UserPatch, principal: CurrentPrincipal, ctx: Context, response: Response
) -> UserOut:
    response.headers["Cache-Control"] = "no-store"
    user = await ctx.users.update_me(
        principal,
        display_name=body.display_name,
        email=str(body.email) if body.email is not None else None,
        current_password=body.current_password,
    )
    return UserOut.of(user)
