"""The current principal, resolved from a Bearer access token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from taskwell.auth.session_guard import Principal
from taskwell.context import AppContext, get_context
from taskwell.errors import Unauthorized
from taskwell.http.rate_limit import record

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /auth/login")


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("Send `Authorization: Bearer <access token>`.")
    ctx: AppContext = request.app.state.context
    principal = await ctx.auth.authenticate(credentials.credentials)
    request.state.user_id = principal.user_id
    record(request.scope["state"], await ctx.limiter.check("user", str(principal.user_id)))
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]
Context = Annotated[AppContext, Depends(get_context)]
