"""The current principal: from a Bearer access token, or an API key; and what it may do."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from taskwell.apikeys.service import looks_like_key
from taskwell.auth.cookies import check_csrf
from taskwell.auth.session_guard import Principal
from taskwell.context import AppContext, get_context
from taskwell.errors import Forbidden, Unauthorized
from taskwell.http.rate_limit import record

_bearer = HTTPBearer(
    auto_error=False, description="An access token from POST /auth/login, or an API key"
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="An API key")


class InsufficientScope(Forbidden):
    slug, title, status = "insufficient-scope", "The API key lacks the scope for this", 403


class SessionRequired(Forbidden):
    slug, title, status = "session-required", "This needs a signed-in session", 403


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    bearer = credentials.credentials if credentials is not None else ""
    return await authenticate(request, bearer, api_key)


def bearer_of(request: Request) -> str:
    scheme, _, credential = request.headers.get("authorization", "").partition(" ")
    return credential.strip() if scheme.lower() == "bearer" else ""


def credential_of(request: Request, bearer: str, api_key: str | None) -> Credential:
    """The credential a request carries: an API key, a Bearer token or the session cookie."""
    ctx: AppContext = request.app.state.context
    if api_key or looks_like_key(bearer):
        return Credential("key", api_key or bearer)
    if bearer:
        return Credential("token", bearer)
    cookie = request.cookies.get(ctx.cookie_names.access)
    if cookie:
        return Credential("cookie", cookie)
    raise Unauthorized("Send `Authorization: Bearer <access token or API key>`, or log in.")


@dataclass(frozen=True, slots=True)
class Credential:
    kind: Literal["key", "token", "cookie"]
    secret: str

    async def check(self, ctx: AppContext) -> Principal:
        """Who this credential stands for now: raises once the key is revoked or expired, the
        access token has expired or its session has ended. Long-lived requests (the event
        stream) call it again while they run."""
        if self.kind == "key":
            return await ctx.api_keys.authenticate(self.secret)
        return await ctx.auth.authenticate(self.secret)


async def authenticate(request: Request, bearer: str, api_key: str | None) -> Principal:
    """Who is calling, from a Bearer token, an API key or the session cookie (with CSRF)."""
    ctx: AppContext = request.app.state.context
    credential = credential_of(request, bearer, api_key)
    principal = await credential.check(ctx)
    if credential.kind == "cookie":
        assert principal.session_id is not None
        check_csrf(request, ctx.settings, principal.session_id)
    request.state.user_id = principal.user_id
    record(request.scope["state"], await ctx.limiter.check("user", str(principal.user_id)))
    return principal


# Security requirements for routes that authenticate without dependencies (the hot reads).
OPENAPI_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}, {"APIKeyHeader": []}]}


async def principal_with_scope(request: Request, scope: str) -> Principal:
    """The dependency-free twin of require_scope, for the hot read routes: FastAPI's
    dependency resolution costs more per request than everything else on that path."""
    principal = await authenticate(
        request, bearer_of(request), request.headers.get("x-api-key") or None
    )
    if not principal.allows(scope):
        raise InsufficientScope(f"This needs an API key with the `{scope}` scope.")
    return principal


def require_scope(*scopes: str) -> Callable[..., Awaitable[Principal]]:
    """A session, or an API key with every one of these scopes."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        missing = [scope for scope in scopes if not principal.allows(scope)]
        if missing:
            named = " and ".join(f"`{scope}`" for scope in missing)
            raise InsufficientScope(f"This needs an API key with the {named} scope.")
        return principal

    return check


async def session_principal(
    principal: Annotated[Principal, Depends(current_principal)],
) -> Principal:
    if principal.session_id is None:
        raise SessionRequired("Manage the account from a signed-in session, not an API key.")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(session_principal)]
TasksReader = Annotated[Principal, Depends(require_scope("tasks:read"))]
TasksWriter = Annotated[Principal, Depends(require_scope("tasks:write"))]
AccountReader = Annotated[Principal, Depends(require_scope("account:read"))]
Context = Annotated[AppContext, Depends(get_context)]
