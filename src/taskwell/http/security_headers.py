"""Security headers on every response, errors and static files included (ASVS 3.4)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from taskwell.settings import Environment, Settings

# No inline scripts anywhere; the interactive API docs are the one page that needs a CDN and
# an inline bootstrap, and they are off in production.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'"
)
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' https://cdn.jsdelivr.net; img-src 'self' data: https://fastapi.tiangolo.com; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
_PERMISSIONS = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), interest-cohort=()"
)


def security_headers(settings: Settings, path: str = "") -> dict[str, str]:
    headers = {
        "Content-Security-Policy": _DOCS_CSP if path.startswith("/api/docs") else _CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": _PERMISSIONS,
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-Frame-Options": "DENY",
    }
    if settings.env is Environment.production or settings.hsts:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    )


class SecurityHeadersMiddleware:
    """Adds each header the response does not set itself. The two header sets (API docs and
    everything else) are encoded once, not per request."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self._default = _raw(security_headers(settings))
        self._docs = _raw(security_headers(settings, "/api/docs"))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = self._docs if scope["path"].startswith("/api/docs") else self._default

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
