"""The ceiling: the same list query served by bare Starlette + one asyncpg pool + orjson.

No authentication, no validation, no middleware: about the most a Python server can do for this
read on this machine. Taskwell's figures are reported as a share of this one, measured in the
same run (bench/run.py). The reader's user id comes in the X-Owner header (nothing is decoded);
the answer is byte-for-byte what Taskwell sends for the first page of GET /api/v1/tasks?limit=N:
the same columns, order (created_at, id), `Z` timestamps and opaque next_cursor.

The SQL is Taskwell's own, so the two cannot drift: build_list() for the default list shape (no
filter, sort created_at, first page), compiled once at start-up for PostgreSQL with the asyncpg
dialect exactly as taskwell.db.prepared.PreparedQuery.compile does, its parameters bound in the
compiled order (the reader's id, then the page size + 1). Nothing else of Taskwell runs per
request.

Run: uvicorn --factory bench.ceiling:create_app, with TASKWELL_BENCH_DSN=postgresql://...
and optionally TASKWELL_BENCH_POOL_SIZE (10, Taskwell's default pool size).
"""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from taskwell.db.prepared import PreparedQuery
from taskwell.tasks.repository import ListQuery, build_list

JSON = "application/json"


def list_query() -> PreparedQuery:
    """Taskwell's first page of GET /api/v1/tasks with no filter, as Taskwell compiles it."""
    shape = ListQuery(user_id=uuid.UUID(int=0)).shape()  # the service's defaults: created_at
    query = PreparedQuery.compile(build_list(shape, "postgresql"), PGDialect_asyncpg())
    # Bound below as (reader, limit + 1) without converters: check that is what Taskwell does.
    if query.param_names != ("user_id", "limit") or any(query.bind_converters):
        raise RuntimeError(f"the list query's parameters changed: {query.param_names}")
    return query


QUERY = list_query()
SQL = QUERY.sql


def _default(value: Any) -> Any:
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID type, which orjson does not know
        return str(value)
    raise TypeError


async def _keep_session(_: asyncpg.Connection) -> None:
    """No reset query on release: by default asyncpg runs one (an extra round trip per request)
    to undo session state, and these reads leave none. Taskwell's pool skips it too."""


def _cursor(row: asyncpg.Record) -> str:
    raw = orjson.dumps(["created_at", {"t": row["created_at"].isoformat()}, str(row["id"])])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def create_app() -> Starlette:
    dsn = os.environ["TASKWELL_BENCH_DSN"]
    size = int(os.environ.get("TASKWELL_BENCH_POOL_SIZE", "10"))
    pool: asyncpg.Pool | None = None

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=size, max_size=size, reset=_keep_session)
        try:
            yield
        finally:
            await pool.close()

    async def tasks(request: Request) -> Response:
        assert pool is not None
        owner = uuid.UUID(request.headers["x-owner"])
        limit = int(request.query_params.get("limit", "50"))
        rows = await pool.fetch(SQL, owner, limit + 1)
        next_cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            next_cursor = _cursor(rows[-1])
        body = {"items": [dict(row) for row in rows], "next_cursor": next_cursor}
        return Response(
            orjson.dumps(body, default=_default, option=orjson.OPT_UTC_Z), media_type=JSON
        )

    async def healthz(_: Request) -> Response:
        return Response(b'{"status":"ok"}', media_type=JSON)

    return Starlette(
        routes=[Route("/api/v1/tasks", tasks), Route("/healthz", healthz)], lifespan=lifespan
    )
