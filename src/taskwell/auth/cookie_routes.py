"""HTTP for browser sessions: log in, refresh and log out with HttpOnly cookies."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel

from taskwell.auth.cookies import check_site, clear_session_cookies, csrf_token, set_session_cookies
from taskwell.auth.deps import Context, CurrentPrincipal
from taskwell.auth.schemas import LoginIn
from taskwell.auth.service import ClientInfo, InvalidRefreshToken, TokenPair
from taskwell.context import AppContext
from taskwell.errors import Unauthorized, problem_responses
from taskwell.http import API_V1
from taskwell.http.rate_limit import limit

router = APIRouter(
    prefix=f"{API_V1}/auth/cookie",
    tags=["auth"],
    responses=problem_responses(400, 401, 403, 413, 422, 429),
)


class BrowserSession(BaseModel):
    csrf_token: str
    expires_in: int


def _answer(response: Response, pair: TokenPair, ctx: AppContext) -> BrowserSession:
    set_session_cookies(response, pair, ctx.settings, ctx.cookie_names)
    response.headers["Cache-Control"] = "no-store"
    secret = ctx.settings.secret_key.get_secret_value()
    return BrowserSession(
        csrf_token=csrf_token(secret, pair.session_id), expires_in=pair.expires_in
    )


@router.post("/login", response_model=BrowserSession, dependencies=[limit("login")])
async def cookie_login(
    body: LoginIn, request: Request, response: Response, ctx: Context
) -> BrowserSession:
    """Log in for the web app: tokens go into HttpOnly cookies; the body has the CSRF token
    to send as X-CSRF-Token on every state-changing request."""
    check_site(request, ctx.settings)
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
    return _answer(response, pair, ctx)


@router.post("/refresh", response_model=BrowserSession, dependencies=[limit("refresh")])
async def cookie_refresh(request: Request, response: Response, ctx: Context) -> BrowserSession:
    """New cookies from the refresh cookie (rotated, single use, as for POST /auth/refresh)."""
    check_site(request, ctx.settings)
    token = request.cookies.get(ctx.cookie_names.refresh)
    if not token:
        raise InvalidRefreshToken("No session cookie; log in again.")
    return _answer(response, await ctx.auth.refresh(token), ctx)


class SessionState(BaseModel):
    signed_in: bool
    # Signed out, but a refresh cookie came along: POST /refresh may bring the session back.
    refreshable: bool
    csrf_token: str | None
    expires_in: int | None


@router.get("/session", response_model=SessionState)
async def cookie_session(request: Request, response: Response, ctx: Context) -> SessionState:
    """Whether this browser has a live cookie session: 200 either way, so that the web app can
    ask on every start without a 401 (which browsers log as an error) for a signed-out visitor.
    Signed in: the CSRF token, as GET /csrf gives it. The cookies are HttpOnly, so only the
    server can say whether a refresh cookie came along."""
    response.headers["Cache-Control"] = "no-store"
    access = request.cookies.get(ctx.cookie_names.access)
    if access:
        try:
            principal = await ctx.auth.authenticate(access)
        except Unauthorized:
            principal = None  # expired, revoked or forged: signed out, as far as it goes
        if principal is not None and principal.session_id is not None:
            secret = ctx.settings.secret_key.get_secret_value()
            return SessionState(
                signed_in=True,
                refreshable=True,
                csrf_token=csrf_token(secret, principal.session_id),
                expires_in=ctx.settings.access_token_ttl_seconds,
            )
    refreshable = bool(request.cookies.get(ctx.cookie_names.refresh))
    return SessionState(signed_in=False, refreshable=refreshable, csrf_token=None, expires_in=None)


@router.get("/csrf", response_model=BrowserSession)
async def cookie_csrf(principal: CurrentPrincipal, ctx: Context) -> BrowserSession:
    """The CSRF token of the current cookie session, e.g. after a page reload."""
    assert principal.session_id is not None
    secret = ctx.settings.secret_key.get_secret_value()
    return BrowserSession(
        csrf_token=csrf_token(secret, principal.session_id),
        expires_in=ctx.settings.access_token_ttl_seconds,
    )


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def cookie_logout(principal: CurrentPrincipal, ctx: Context) -> Response:
    await ctx.auth.logout(principal)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookies(response, ctx.settings, ctx.cookie_names)
    return response
