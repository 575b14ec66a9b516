"""Security headers on every response, errors and static files included (ASVS 3.4)."""

from __future__ import annotations

from collections.abc import Sequence

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


EncodedHeaders = Sequence[tuple[bytes, bytes]]


def encoded_security_headers(settings: Settings, path: str = "") -> EncodedHeaders:
    """security_headers() as ASGI header pairs: encoded once at start-up, not per request
    (http.edge adds each one a response does not set itself)."""
    return tuple(
        (name.lower().encode("latin-1"), value.encode("latin-1"))
        for name, value in security_headers(settings, path).items()
    )
