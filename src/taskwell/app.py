"""create_app(settings): middleware order, routers, and the lifespan that opens the pools."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TextIO

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from taskwell import __version__, maintenance
from taskwell.activity.routes import router as activity_router
from taskwell.apikeys.routes import router as api_keys_router
from taskwell.audit.routes import router as audit_router
from taskwell.auth.cookie_routes import router as cookie_router
from taskwell.auth.routes import router as auth_router
from taskwell.auth.totp_routes import router as totp_router
from taskwell.changes.routes import router as sync_router
from taskwell.comments.routes import router as comments_router
from taskwell.context import AppContext
from taskwell.db.engine import Database
from taskwell.db.migrate import SchemaState, head_revision, schema_state
from taskwell.drain import Drain
from taskwell.errors import install_error_handlers
from taskwell.events.routes import router as events_router
from taskwell.http import API_V1
from taskwell.http.body_limit import BodyLimits
from taskwell.http.client_ip import ClientIpMiddleware
from taskwell.http.compression import CompressResponses
from taskwell.http.edge import EdgeMiddleware
from taskwell.http.hot_routes import HotRoutes
from taskwell.http.rate_limit import RateLimitMiddleware
from taskwell.http.request_shape import RequestLimitsMiddleware
from taskwell.labels.routes import router as labels_router
from taskwell.observability.logging import configure_logging
from taskwell.observability.metrics import forget_process_metrics, sample_process
from taskwell.observability.routes import router as operations_router
from taskwell.observability.sentry import init_sentry
from taskwell.portability import routes as portability_routes
from taskwell.projects.routes import router as projects_router
from taskwell.projects.routes import trash_router
from taskwell.reminders.routes import router as reminders_router
from taskwell.rum.routes import BODY_LIMITS as RUM_BODY_LIMITS
from taskwell.rum.routes import router as rum_router
from taskwell.search.routes import router as search_router
from taskwell.settings import Environment, Settings
from taskwell.tasks.routes import hot_routes as hot_task_routes
from taskwell.tasks.routes import router as tasks_router
from taskwell.users.routes import AVATAR_PATH
from taskwell.users.routes import router as users_router
from taskwell.webapp.routes import install_webapp
from taskwell.webhooks.routes import router as webhooks_router
from taskwell.worker.run import InProcessWorker

log = logging.getLogger("taskwell")


class SchemaNotCurrent(RuntimeError):
    """The database is not at the migration head this code needs."""


async def ensure_schema_current(db: Database, settings: Settings) -> None:
    """Refuse a schema older than this code; accept a newer one (a rolling deploy's later
    release migrated it; migrations are expand/contract, docs/deployment.md)."""
    state, current = await schema_state(db.engine, settings)
    if state is SchemaState.behind:
        raise SchemaNotCurrent(
            f"The database schema is at revision {current or 'none (empty database)'} but this "
            f"version of Taskwell needs {head_revision(settings)}. Run `taskwell db upgrade` "
            "first."
        )
    if state is SchemaState.ahead:
        log.warning("database schema is newer than this release", extra={"revision": current})


def create_app(settings: Settings | None = None, *, log_stream: TextIO | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_logging(settings, log_stream)
    init_sentry(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with AppContext.open(settings) as context:
            await ensure_schema_current(context.db, settings)
            app.state.context = context
            drain = getattr(app.state, "drain", None)
            if drain is not None:
                drain.on_stop(context.events.stop_all)
            # Everything built at start-up lives as long as the process: keep it out of the
            # garbage collector's full passes (measured: 80-160 ms pauses under load).
            gc.freeze()
            background = [asyncio.create_task(_sample_process_forever())]
            if settings.maintenance_interval_seconds > 0:
                background.append(
                    asyncio.create_task(
                        maintenance.run_forever(context, settings.maintenance_interval_seconds)
                    )
                )
            # Webhooks and reminders, in this process on the embedded default (worker/).
            worker = InProcessWorker.start(context) if settings.runs_worker_in_process else None
            try:
                yield
            finally:
                if worker is not None:
                    await worker.stop()
                for task in background:
                    task.cancel()
                forget_process_metrics()

    docs_enabled = settings.env is not Environment.production or settings.debug
    app = FastAPI(
        title="Taskwell API",
        version=__version__,
        lifespan=lifespan,
        debug=settings.debug,
        openapi_url=f"{API_V1}/openapi.json",
        docs_url="/api/docs" if docs_enabled else None,
        redoc_url=None,
        # FastAPI's own OpenTelemetry hooks: metrics, logs and errors go to Prometheus,
        # structlog and Sentry here. Off, they cost nothing; left on, every request looked up
        # the global providers (and the environment) just to find them unconfigured.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    app.state.settings = settings
    install_error_handlers(app)
    for router in (
        auth_router,
        cookie_router,
        totp_router,
        users_router,
        tasks_router,
        projects_router,
        trash_router,
        labels_router,
        comments_router,
        activity_router,
        search_router,
        reminders_router,
        sync_router,
        webhooks_router,
        events_router,
        api_keys_router,
        audit_router,
        rum_router,
        portability_routes.router,
    ):
        app.include_router(router)
    app.include_router(operations_router)
    # Last: the client routes and the build's files; what they do not serve stays a 404.
    install_webapp(app, settings)
    # Added last runs first: the edge (request id, security headers, the observer) is
    # outermost, so the id exists before anything else can fail and the observer times
    # everything inside it; the client address is known before the rate limit counts it.
    # The hot reads are answered innermost, past every check.
    app.add_middleware(HotRoutes, routes=hot_task_routes())
    app.add_middleware(
        RequestLimitsMiddleware,
        body=BodyLimits(
            settings.max_body_bytes,
            {
                ("PUT", AVATAR_PATH): settings.avatar_max_bytes,
                **RUM_BODY_LIMITS,
                **portability_routes.body_limits(settings),
            },
        ),
        max_url_bytes=settings.max_url_bytes,
        max_header_bytes=settings.max_header_bytes,
        max_json_depth=settings.max_json_depth,
        max_json_items=settings.max_json_items,
        route_json_items=portability_routes.json_item_limits(settings),
    )
    app.add_middleware(RateLimitMiddleware)
    app.add_middleware(ClientIpMiddleware, trusted=settings.trusted_proxy_networks)
    if settings.cors_origin_list:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_credentials=True,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
                "X-CSRF-Token",
                "X-Request-ID",
                "X-API-Key",
            ],
            expose_headers=[
                "ETag",
                "Location",
                "X-Request-ID",
                "Retry-After",
                "RateLimit-Limit",
                "RateLimit-Remaining",
                "RateLimit-Reset",
            ],
            max_age=600,
        )
    if settings.compression_enabled:
        # Inside the observer, so its timings and byte counts are of what is sent.
        app.add_middleware(
            CompressResponses,
            minimum_size=settings.compression_min_bytes,
            # Event streams are flushed event by event; gzip would hold them back.
            never=(f"{API_V1}/auth/", f"{API_V1}/api-keys", f"{API_V1}/events"),
        )
    app.add_middleware(
        EdgeMiddleware,
        settings=settings,
        log_requests=settings.access_log,
        record_metrics=settings.metrics_enabled,
    )
    return app


async def _sample_process_forever(interval: float = 10.0) -> None:
    """Keep the process gauges fresh in every worker, not only the one being scraped."""
    while True:
        sample_process()
        await asyncio.sleep(interval)


def create_app_from_env() -> ASGIApp:
    """Factory for `uvicorn --factory taskwell.app:create_app_from_env` (`taskwell serve`):
    the app, drained politely on SIGTERM (src/taskwell/drain.py)."""
    settings = Settings()
    app = create_app(settings)
    drain = Drain(app, settings.drain_seconds)
    app.state.drain = drain
    return drain
