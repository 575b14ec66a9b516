"""The hot reads, served without FastAPI's router.

FastAPI's per-request machinery (matching the path against every included router, twice;
the request_response and exception-handling wrappers; the exit-stack middleware) cost about
0.3 ms of CPU per request, more than the database read itself (docs/benchmarks.md). The few
routes named here are matched first with their own path regex and their endpoint is called
with the Request directly. The FastAPI route stays registered and documented, and anything
that does not match exactly (another method, a malformed id) falls through to it, so every
edge case is still answered by FastAPI. Errors go through the same handlers as everywhere
else (errors.handled_response); anything unhandled propagates to the 500 handler as before.

A hot endpoint takes `request` plus its path parameters; each path parameter must be a
`uuid.UUID` (parsed strictly here) or a `str`.
"""

from __future__ import annotations

import inspect
import re
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from taskwell.errors import handled_response

# The canonical textual form only; anything else falls through to FastAPI's validation.
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
Parser = Callable[[str], Any]


def _parse_uuid(text: str) -> uuid.UUID:
    if not _UUID.match(text):
        raise ValueError(text)
    return uuid.UUID(text)


def _str(text: str) -> str:
    return text


@dataclass(frozen=True, slots=True)
class _Hot:
    route: APIRoute
    endpoint: Callable[..., Awaitable[Response]]
    parsers: tuple[tuple[str, Parser], ...]


def _hot(route: APIRoute) -> _Hot:
    if route.methods != {"GET"}:
        raise ValueError(f"hot route {route.path} must be GET only")
    parsers: list[tuple[str, Parser]] = []
    for name, parameter in inspect.signature(route.endpoint).parameters.items():
        if name == "request":
            continue
        if name not in route.param_convertors:
            raise ValueError(f"hot route {route.path}: {name} is not a path parameter")
        annotation = parameter.annotation
        if annotation in (uuid.UUID, "uuid.UUID"):
            parsers.append((name, _parse_uuid))
        elif annotation in (str, "str"):
            parsers.append((name, _str))
        else:
            raise ValueError(f"hot route {route.path}: {name} must be uuid.UUID or str")
    return _Hot(route, route.endpoint, tuple(parsers))


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class HotRoutes:
    """Innermost middleware: answers the named GET routes itself, passes the rest on."""

    def __init__(self, app: ASGIApp, routes: Sequence[APIRoute]) -> None:
        self.app = app
        self._routes = tuple(_hot(route) for route in routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            path = _route_path(scope)
            for hot in self._routes:
                match = hot.route.path_regex.match(path)
                if match is None:
                    continue
                try:
                    kwargs = {name: parse(match[name]) for name, parse in hot.parsers}
                except ValueError:
                    break  # FastAPI answers with its own validation error
                await self._serve(hot, kwargs, scope, receive, send)
                return
        await self.app(scope, receive, send)

    async def _serve(
        self, hot: _Hot, kwargs: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        scope["route"] = hot.route  # the route template, for the access log and metrics
        scope["path_params"] = kwargs
        request = Request(scope, receive, send)
        try:
            response = await hot.endpoint(request=request, **kwargs)
        except Exception as exc:
            handled = await handled_response(request, exc)
            if handled is None:
                raise
            response = handled
        await response(scope, receive, send)
