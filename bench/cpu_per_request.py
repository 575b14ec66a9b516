"""CPU per request of the task list with no HTTP server and no load generator in the way.

    .venv/bin/python bench/cpu_per_request.py            # seeds taskwell_bench first
    .venv/bin/python bench/cpu_per_request.py --no-seed  # reuse what bench/run.py left
    .venv/bin/python bench/cpu_per_request.py --database tw_perf --no-seed \
        --only ceiling --only "(cache off): list" --rounds 5 --requests 8000

Calls each ASGI app directly (64 concurrent callers, like wrk -c64) and divides this process's
CPU time by the number of requests: a figure that other processes on a busy machine barely move,
unlike req/s. With --rounds the chosen variants take turns in one process and each one's median
is reported, so a busy machine's noise falls on all of them alike. A diagnostic for working on
the hot path, not a pass/fail benchmark; the benchmark is bench/run.py. Also counts SessionGuard
look-ups (session + user flags queries).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any, TextIO

import asyncpg
import httpx
import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ceiling import create_app as create_ceiling  # noqa: E402
from bench.run import ADMIN_DSN, DB_NAME, REDIS_URL, taskwell_env  # noqa: E402
from bench.seed import PASSWORD, prepare  # noqa: E402
from taskwell.app import create_app  # noqa: E402
from taskwell.auth import session_guard  # noqa: E402
from taskwell.settings import Settings  # noqa: E402

CONCURRENCY = 64
App = Callable[..., Any]
session_loads = 0


def _count_session_loads() -> None:
    original = session_guard.SessionGuard._load

    async def counted(self: Any, *args: Any) -> Any:
        global session_loads
        session_loads += 1
        return await original(self, *args)

    session_guard.SessionGuard._load = counted  # type: ignore[method-assign]


def _scope(path: str, query: bytes, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 18000),
        "state": {},
    }


async def _call(app: App, scope: dict[str, Any]) -> int:
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    return status[0]


async def measure(
    label: str, app: App, scope_of: Callable[[int], dict[str, Any]], n: int, warm: bool = True
) -> float:
    """CPU microseconds per request of one batch of n requests (after a warm-up batch)."""
    global session_loads

    async def caller(k: int) -> None:
        for i in range(n // CONCURRENCY):
            status = await _call(app, scope_of(k + i))
            if status != 200:
                raise RuntimeError(f"{label}: status {status}")

    if warm:
        await asyncio.gather(*(caller(k) for k in range(CONCURRENCY)))
    session_loads = 0
    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(caller(k) for k in range(CONCURRENCY)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    done = n // CONCURRENCY * CONCURRENCY
    print(
        f"{label:48} {1e6 * cpu / done:6.0f} us CPU/req  {done / wall:6.0f} req/s  "
        f"session look-ups {session_loads}/{done}",
        flush=True,
    )
    return 1e6 * cpu / done


Scenario = tuple[str, App, Callable[[int], dict[str, Any]]]


async def _open_taskwell(
    stack: AsyncExitStack, settings: dict[str, Any], people: list[tuple[str, str]], log: TextIO
) -> tuple[App, Callable[[int], dict[str, Any]]]:
    app = create_app(Settings(**settings), log_stream=log)
    await stack.enter_async_context(app.router.lifespan_context(app))
    transport = httpx.ASGITransport(app=app)
    tokens = []
    async with httpx.AsyncClient(transport=transport, base_url="http://x") as client:
        for _, email in people:
            response = await client.post(
                "/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
            response.raise_for_status()
            tokens.append(f"Bearer {response.json()['access_token']}".encode())

    def taskwell_list(i: int) -> dict[str, Any]:
        return _scope("/api/v1/tasks", b"limit=50", [(b"authorization", tokens[i % 64])])

    return app, taskwell_list


async def main(n: int, only: list[str], dsn: str, rounds: int, log: TextIO) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT id, email FROM users ORDER BY email LIMIT $1", CONCURRENCY)
    finally:
        await conn.close()
    people = [(str(r["id"]), r["email"]) for r in rows]

    variants: dict[str, dict[str, Any]] = {
        "taskwell (cache off): list": {"cache_enabled": False},
        "taskwell (cache on, all hits): list": {"cache_enabled": True},
        "taskwell (cache off, max_overflow 0): list": {
            "cache_enabled": False,
            "db_max_overflow": 0,
        },
        "taskwell (cache off, session check 60 s): list": {
            "cache_enabled": False,
            "session_check_cache_seconds": 60,
        },
        "taskwell (Redis, cache off): list": {"cache_enabled": False, "redis_url": REDIS_URL},
        "taskwell (Redis, cache on, all hits): list": {
            "cache_enabled": True,
            "redis_url": REDIS_URL,
        },
    }
    async with AsyncExitStack() as stack:
        scenarios: list[Scenario] = []

        def wanted(label: str) -> bool:
            return not only or any(text in label for text in only)

        if wanted("ceiling: list"):
            ceiling = create_ceiling()
            await stack.enter_async_context(ceiling.router.lifespan_context(ceiling))

            def ceiling_list(i: int) -> dict[str, Any]:
                owner = people[i % 64][0].encode()
                return _scope("/api/v1/tasks", b"limit=50", [(b"x-owner", owner)])

            scenarios.append(("ceiling: list", ceiling, ceiling_list))
        for label, settings in variants.items():
            if not wanted(label):
                continue
            app, scope_of = await _open_taskwell(stack, settings, people, log)
            scenarios.append((label, app, scope_of))
            if settings == {"cache_enabled": False}:
                scenarios.append(
                    (
                        "taskwell: /healthz (middleware only)",
                        app,
                        lambda _: _scope("/healthz", b"", []),
                    )
                )
        # Interleaved rounds (the order reversed every other one): the machine's noise then
        # falls on every variant alike, and the median per variant is the figure to compare.
        results: dict[str, list[float]] = {label: [] for label, _, _ in scenarios}
        for round_number in range(rounds):
            order = scenarios if round_number % 2 == 0 else scenarios[::-1]
            for label, app, scope_of in order:
                results[label].append(await measure(label, app, scope_of, n, round_number == 0))
    if rounds > 1:
        print(f"median of {rounds} interleaved rounds:")
        for label, figures in results.items():
            print(f"{label:48} {statistics.median(figures):6.0f} us CPU/req", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--no-seed", action="store_true")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        help="run the variants whose label has this text (repeatable)",
    )
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (median)")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="write the access line (to /dev/null) like the HTTP benchmark's servers do",
    )
    parser.add_argument("--database", default=DB_NAME, help=f"scratch database (default {DB_NAME})")
    args = parser.parse_args()
    if args.database == "test" or not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.database):
        parser.error("--database must be a plain lower-case name, and not `test`")
    if not CONCURRENCY <= args.requests <= 100_000:
        parser.error(f"--requests must be {CONCURRENCY}..100000")
    if not 1 <= args.rounds <= 50:
        parser.error("--rounds must be 1..50")
    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    os.environ.update(taskwell_env(dsn.replace("postgresql://", "postgresql+asyncpg://")))
    os.environ.update(
        TASKWELL_LOG_LEVEL="info" if args.access_log else "warning", TASKWELL_BENCH_DSN=dsn
    )
    if not args.no_seed:
        prepare(ADMIN_DSN, args.database, 1000, 100)
    _count_session_loads()
    with open(os.devnull, "w") as log:
        uvloop.run(main(args.requests, args.only, dsn, args.rounds, log))
