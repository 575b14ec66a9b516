"""Live updates: how long a change takes to reach an event stream on another instance (issue 9).

    .venv/bin/python bench/events.py                       # 30 s of writes, judged
    .venv/bin/python bench/events.py --seconds 60 --rate 40 --streams 40 --wait-quiet 120

The requirement: "every change ... is pushed within 1 s, whichever instance handled the
write". Starts two Taskwell instances (production settings, uvicorn 1 worker each) on one
PostgreSQL database (tw_bench_events, dropped and created anew) and one Redis (db 10), with the
streams' own poll set to a minute, so every change measured arrived by a wake-up through Redis
pub/sub. Signs up --streams users; each follows GET /events on instance B. Then writers create
tasks through instance A at --rate per second in all, each task in one user's Inbox, for
--seconds. A change's latency is from the moment its POST was sent (an upper bound: the commit
comes later) to the moment its event was read off the stream on B.

Judged: p99 latency / 1 s <= 1.0, and no change missing. Also reported: p50, p95, max.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    ADMIN_DSN,
    WORK,
    Variant,
    start,
    stop,
    taskwell_env,
    wait_for_quiet,
)

DATABASE = "tw_bench_events"
REDIS_URL = "redis://127.0.0.1:6379/10"
PASSWORD = "violet tractor sings under 42 lanterns"
BUDGET_SECONDS = 1.0


async def _fresh_database() -> str:
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await admin.close()
    return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DATABASE}"


async def _sign_up(http: httpx.AsyncClient, n: int) -> list[str]:
    tokens = []
    for i in range(n):
        email = f"events-{i}-{uuid.uuid4().hex[:6]}@example.com"
        body = {"email": email, "password": PASSWORD}
        assert (await http.post("/api/v1/auth/register", json=body)).status_code == 201
        login = await http.post("/api/v1/auth/login", json=body)
        tokens.append(login.json()["access_token"])
    return tokens


async def _follow(
    base_url: str, token: str, arrived: dict[str, float], ready: asyncio.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    timeout = httpx.Timeout(10.0, read=None)
    async with (
        httpx.AsyncClient(base_url=base_url, timeout=timeout) as http,
        http.stream("GET", "/api/v1/events", headers=headers) as response,
    ):
        assert response.status_code == 200
        async for line in response.aiter_lines():
            if line == "event: ready":
                ready.set()
            elif line.startswith('data: {"changes"'):
                now = time.perf_counter()
                for change in json.loads(line.removeprefix("data: "))["changes"]:
                    if change["entity"] == "task":
                        arrived.setdefault(change["id"], now)


async def _write(
    base_url: str, tokens: list[str], rate: float, seconds: float, sent: dict[str, float]
) -> None:
    async with httpx.AsyncClient(base_url=base_url, timeout=10.0) as http:
        interval = 1.0 / rate
        deadline = time.perf_counter() + seconds
        next_at = time.perf_counter()
        pending: set[asyncio.Task[None]] = set()

        async def one(token: str) -> None:
            began = time.perf_counter()
            created = await http.post(
                "/api/v1/tasks",
                json={"title": "live"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert created.status_code == 201, created.text
            sent[created.json()["id"]] = began

        while time.perf_counter() < deadline:
            task = asyncio.create_task(one(random.choice(tokens)))
            pending.add(task)
            task.add_done_callback(pending.discard)
            next_at += interval
            await asyncio.sleep(max(0.0, next_at - time.perf_counter()))
        await asyncio.gather(*pending)


async def run(args: argparse.Namespace) -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    db_url = await _fresh_database()
    env = taskwell_env(
        db_url,
        TASKWELL_REDIS_URL=REDIS_URL,
        TASKWELL_EVENTS_POLL_SECONDS="60",
        TASKWELL_EVENTS_STREAMS_PER_USER="5",
        TASKWELL_ACCESS_LOG="false",
    )
    from redis.asyncio import Redis

    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "taskwell", "db", "upgrade"],
        env={**os.environ, **env},
        check=True,
        capture_output=True,
    )
    a = Variant("events-a", 18031, env)
    b = Variant("events-b", 18032, env)
    try:
        start(a)
        start(b)
        wait_for_quiet(args.wait_quiet)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{a.port}", timeout=30) as http:
            tokens = await _sign_up(http, args.streams)
        arrived: dict[str, float] = {}
        sent: dict[str, float] = {}
        readies = [asyncio.Event() for _ in tokens]
        followers = [
            asyncio.create_task(_follow(f"http://127.0.0.1:{b.port}", t, arrived, r))
            for t, r in zip(tokens, readies, strict=True)
        ]
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 30)
        load = os.getloadavg()[0]
        await _write(f"http://127.0.0.1:{a.port}", tokens, args.rate, args.seconds, sent)
        await asyncio.sleep(BUDGET_SECONDS * 3)  # the stragglers, if any
        for follower in followers:
            follower.cancel()
        await asyncio.gather(*followers, return_exceptions=True)
    finally:
        stop([a, b])
    latencies = sorted(arrived[i] - sent[i] for i in sent if i in arrived)
    missing = len([i for i in sent if i not in arrived])
    if not latencies:
        print("no change arrived")
        return 1
    quantiles = statistics.quantiles(latencies, n=100, method="inclusive")
    p50, p95, p99 = quantiles[49], quantiles[94], quantiles[98]
    ratio = p99 / BUDGET_SECONDS
    verdict = "PASS" if ratio <= 1.0 and missing == 0 else "FAIL"
    print(
        f"changes {len(sent)} (missing {missing}), streams {len(tokens)}, rate {args.rate}/s, "
        f"load before {load:.1f}\n"
        f"latency ms: p50 {p50 * 1e3:.1f}  p95 {p95 * 1e3:.1f}  p99 {p99 * 1e3:.1f}  "
        f"max {latencies[-1] * 1e3:.1f}\n"
        f"p99 / 1 s = {ratio:.3f} (<= 1.0): {verdict}"
    )
    return 0 if verdict == "PASS" else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rate", type=float, default=20.0, help="task creations per second")
    parser.add_argument("--streams", type=int, default=20, help="users following on B")
    parser.add_argument("--wait-quiet", type=int, default=0, help="wait up to N s for load < 1")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
