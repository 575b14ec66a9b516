"""Browser sessions: tokens in HttpOnly cookies, and the CSRF defence that cookies need.

JavaScript never sees a refresh or access token. Each state-changing request that a cookie
authenticates must carry `X-CSRF-Token` (an HMAC of the session id, so it is bound to the
session and needs no storage) and come from an acceptable site (Sec-Fetch-Site / Origin).
Requests with a Bearer token or API key need neither: a browser never adds those by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from starlette.requests import Request
from starlette.responses import Response

from taskwell.auth.service import TokenPair
from taskwell.errors import Forbidden
from taskwell.settings import Settings

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"


class CsrfFailed(Forbidden):
    slug, title, status = "csrf-failed", "Cross-site request refused", 403


class CookieNames:
    def __init__(self, secure: bool) -> None:
        # __Host- binds the cookie to this exact host over HTTPS with Path=/ (ASVS 3.3.3).
        prefix = "__Host-" if secure else ""
        self.access = f"{prefix}tw_access"
        self.refresh = f"{prefix}tw_refresh"


def csrf_token(secret: str, session_id: uuid.UUID) -> str:
    mac = hmac.new(secret.encode(), b"csrf:" + session_id.bytes, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def set_session_cookies(
    response: Response, pair: TokenPair, settings: Settings, names: CookieNames
) -> None:
    for name, value, max_age in (
        (names.access, pair.access_token, pair.expires_in),
        (names.refresh, pair.refresh_token, settings.refresh_token_ttl_seconds),
    ):
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=settings.cookie_secure,
            httponly=True,
            samesite="lax",
        )


def clear_session_cookies(response: Response, settings: Settings, names: CookieNames) -> None:
    for name in (names.access, names.refresh):
        response.delete_cookie(
            name, path="/", secure=settings.cookie_secure, httponly=True, samesite="lax"
        )


def check_site(request: Request, settings: Settings) -> None:
    """Refuse a cookie-carrying request that a browser sent from another site."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        if site not in {"same-origin", "none"}:
            raise CsrfFailed("Requests from other sites cannot use this session.")
        return
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser, or one too old to say; the CSRF token still applies
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin.rstrip("/") != own and origin.rstrip("/") not in settings.cors_origin_list:
        raise CsrfFailed("Requests from other sites cannot use this session.")


def check_csrf(request: Request, settings: Settings, session_id: uuid.UUID) -> None:
    if request.method in SAFE_METHODS:
        return
    check_site(request, settings)
    sent = request.headers.get(CSRF_HEADER, "")
    expected = csrf_token(settings.secret_key.get_secret_value(), session_id)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfFailed("Send the session's CSRF token in X-CSRF-Token.")
