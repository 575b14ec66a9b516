"""Operational endpoints: /healthz, /readyz and /metrics (outside the versioned API)."""

from __future__ import annotations

import hmac
import ipaddress

import orjson
from fastapi import APIRouter, Request, Response

from taskwell.context import AppContext, get_context
from taskwell.db.migrate import SchemaState, schema_state
from taskwell.errors import Forbidden, problem_response
from taskwell.observability.metrics import render

router = APIRouter(tags=["operations"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process answers. Touches nothing else, so it never fails because a dependency did."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready; the problem names why"}})
async def readyz(request: Request) -> Response:
    """Ready for traffic: database reachable and migrated to head, Redis reachable if used."""
    ctx = get_context(request)
    checks = {"database": "ok", "migrations": "ok"}
    try:
        await ctx.db.ping()
        state, _ = await schema_state(ctx.db.engine, ctx.settings)
        if state is SchemaState.behind:
            checks["migrations"] = "not at head"
        elif state is SchemaState.ahead:
            checks["migrations"] = "ahead"  # a newer release migrated it: still compatible
    except Exception:  # any failure to reach it means "not ready"
        checks["database"] = "unreachable"
        checks["migrations"] = "unknown"
    if ctx.redis is not None:
        try:
            await ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception:
            checks["redis"] = "unreachable"
    drain = getattr(request.app.state, "drain", None)
    if drain is not None and drain.draining:  # shutting down: send traffic elsewhere
        checks["shutdown"] = "draining"
    failed = sorted(name for name, state in checks.items() if state not in ("ok", "ahead"))
    if failed:
        return problem_response(
            request,
            status=503,
            slug="not-ready",
            title="Not ready",
            detail="Not ready: " + ", ".join(f"{name} {checks[name]}" for name in failed) + ".",
            extra={"checks": checks},
            headers={"Retry-After": "5"},
        )
    return Response(
        orjson.dumps({"status": "ready", "checks": checks}), media_type="application/json"
    )


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    ctx: AppContext = get_context(request)
    if not _may_scrape(request, ctx):
        raise Forbidden("Metrics are served to allowed addresses or with the metrics token.")
    body, content_type = render()
    return Response(body, media_type=content_type)


def _may_scrape(request: Request, ctx: AppContext) -> bool:
    settings = ctx.settings
    token = settings.metrics_token
    header = request.headers.get("authorization", "")
    if token is not None and header.lower().startswith("bearer "):
        return hmac.compare_digest(header[7:].encode(), token.get_secret_value().encode())
    try:
        address = ipaddress.ip_address(request.state.client_ip)
    except ValueError:
        return False
    return any(address in network for network in settings.metrics_networks)
