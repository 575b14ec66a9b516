"""HTTP for registration, login, token refresh, logout and password change."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response, status

from taskwell.auth.deps import Context, CurrentPrincipal
from taskwell.auth.schemas import (
    LoginIn,
    PasswordChangeIn,
    RefreshIn,
    RegisterIn,
    SessionOut,
    TokenOut,
)
from taskwell.auth.service import ClientInfo, TokenPair
from taskwell.errors import problem_responses
from taskwell.http import API_V1
from taskwell.http.rate_limit import limit
from taskwell.users.schemas import UserOut

router = APIRouter(
    prefix=API_V1,
    tags=["auth"],
    responses=problem_responses(400, 401, 403, 404, 409, 413, 422, 429),
)


def _token_out(pair: TokenPair) -> TokenOut:
    return TokenOut(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )


def _no_store(response: Response) -> None:
    response.headers["Cache-Control"] = "no-store"


@router.post(
    "/auth/register",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    dependencies=[limit("register")],
)
async def register(body: RegisterIn, ctx: Context) -> UserOut:
    user = await ctx.auth.register(
        email=str(body.email), password=body.password, display_name=body.display_name
    )
    return UserOut.of(user)


@router.post("/auth/login", response_model=TokenOut, dependencies=[limit("login")])
async def login(body: LoginIn, request: Request, response: Response, ctx: Context) -> TokenOut:
    client = ClientInfo(
        user_agent=request.headers.get("user-agent", ""), ip=request.state.client_ip
    )
    pair = await ctx.auth.login(
        email=body.email,
        password=body.password,
        client=client,
        otp=body.otp,
        recovery_code=body.recovery_code,
    )
    _no_store(response)
    return _token_out(pair)


@router.post("/auth/refresh", response_model=TokenOut, dependencies=[limit("refresh")])
async def refresh(body: RefreshIn, response: Response, ctx: Context) -> TokenOut:
    pair = await ctx.auth.refresh(body.refresh_token)
    _no_store(response)
    return _token_out(pair)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, ctx: Context) -> Response:
    await ctx.auth.logout(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/auth/logout-all", status_code=status.HTTP_204_NO_CONTENT)
async def logout_all(principal: CurrentPrincipal, ctx: Context) -> Response:
    await ctx.auth.logout_all(principal)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/auth/sessions", response_model=list[SessionOut])
async def list_sessions(principal: CurrentPrincipal, ctx: Context) -> list[SessionOut]:
    """The caller's live login sessions, most recently used first; `current` marks this one."""
    return [
        SessionOut(
            id=record.id,
            created_at=record.created_at,
            last_used_at=record.last_used_at,
            expires_at=record.expires_at,
            user_agent=record.user_agent,
            ip=record.ip,
            current=record.id == principal.session_id,
        )
        for record in await ctx.auth.sessions(principal)
    ]


@router.delete("/auth/sessions/{session_id}", status_code=status.HTTP_204_NO_CONTENT)
async def end_session(session_id: uuid.UUID, principal: CurrentPrincipal, ctx: Context) -> Response:
    """End one of the caller's sessions (another device, or this one)."""
    await ctx.auth.end_session(principal, session_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/users/me/password", status_code=status.HTTP_204_NO_CONTENT, tags=["users"])
async def change_password(
    body: PasswordChangeIn, principal: CurrentPrincipal, ctx: Context
) -> Response:
    await ctx.auth.change_password(
        principal, current_password=body.current_password, new_password=body.new_password
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)
