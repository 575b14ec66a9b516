"""HTTP for the browser app: client routes answer the app shell, files are served by name."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from taskwell.settings import Settings
from taskwell.webapp import PACKAGED_DIST
from taskwell.webapp.static import IMMUTABLE, REVALIDATE, StaticSite

# The client-side routes (frontend/src/routes) that load index.html. Only these shapes: any
# other unknown path stays a 404 problem, and nothing under /api ever falls back to the app.
CLIENT_ROUTES = ("/", "/login", "/register", "/tasks", "/tasks/{task_id}", "/settings")


class RootFiles:
    """The router's fallback: a file directly in the build folder (sw.js, the manifest, the
    icon, workbox-*.js), by name. A fallback rather than a `/{name}` route so that it can
    never shadow a route, whenever that route is added; whatever it does not serve gets the
    router's usual 404."""

    def __init__(self, site: StaticSite, not_found: ASGIApp) -> None:
        self._site = site
        self._not_found = not_found
        self._route = Route("/{name}", self._serve, methods=["GET", "HEAD"])

    async def _serve(self, request: Request) -> Response:
        return self._site.file(request, request.path_params["name"], REVALIDATE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match, child_scope = self._route.matches(scope)
            if match is Match.FULL:
                scope["route"] = self._route
                scope.update(child_scope)
                await self._route.handle(scope, receive, send)
                return
        await self._not_found(scope, receive, send)


def install_webapp(app: FastAPI, settings: Settings) -> StaticSite:
    """Serve the built app from `app`: call after every other router is included."""
    site = StaticSite(
        settings.webapp_dir or PACKAGED_DIST,
        compress_min_bytes=settings.compression_min_bytes if settings.compression_enabled else None,
    )

    async def shell(request: Request) -> Response:
        return site.shell(request)

    async def asset(request: Request, path: str) -> Response:
        return site.file(request, f"assets/{path}", IMMUTABLE)

    router = APIRouter(include_in_schema=False)
    for path in CLIENT_ROUTES:
        router.add_api_route(path, shell, methods=["GET", "HEAD"], include_in_schema=False)
    router.add_api_route(
        "/assets/{path:path}", asset, methods=["GET", "HEAD"], include_in_schema=False
    )
    app.include_router(router)
    app.router.default = RootFiles(site, app.router.default)
    return site
