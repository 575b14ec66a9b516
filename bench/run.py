"""Benchmarks of the task list, as ratios measured in one run on this machine.

    python bench/run.py                 # all scenarios, 3 interleaved rounds of 8 s
    python bench/run.py --rounds 5 --seconds 10

Seeds PostgreSQL (1,000 users x 100 tasks), starts each server variant once (1 uvicorn worker
each, same flags), then drives GET /api/v1/tasks?limit=50 with wrk -c64, one variant after the
other in every round, and reports paired ratios against their reference:

- list:          Taskwell (production settings, cache off)  vs the Starlette+asyncpg ceiling
- cache:         Taskwell on Redis, cache on               vs the same with the cache off
- observability: Taskwell with logs + metrics               vs the same with both off
Only loopback addresses are used; every server is stopped at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import PASSWORD, prepare  # noqa: E402

ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
DB_NAME = "taskwell_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"
PATH = "/api/v1/tasks?limit=50"
GENEROUS = "1000000/minute"


@dataclass
class Variant:
    name: str
    port: int
    env: dict[str, str]
    ceiling: bool = False
    process: subprocess.Popen[bytes] | None = None
    runs: list[dict[str, float]] = field(default_factory=list)


def taskwell_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {
        "TASKWELL_ENV": "production",
        "TASKWELL_SECRET_KEY": secrets.token_urlsafe(48),
        "TASKWELL_DATABASE_URL": db_url,
        "TASKWELL_LOG_LEVEL": "warning",
    }
    for group in ("DEFAULT", "USER", "LOGIN", "LOGIN_ACCOUNT", "REGISTER", "REFRESH"):
        env[f"TASKWELL_RATE_LIMIT_{group}"] = GENEROUS
    env.update(extra)
    return env


def start(variant: Variant) -> None:
    app = "bench.ceiling:create_app" if variant.ceiling else "taskwell.app:create_app_from_env"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    env.update(variant.env)
    env["PYTHONPATH"] = str(ROOT)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        app,
        "--host",
        "127.0.0.1",
        "--port",
        str(variant.port),
        "--workers",
        "1",
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    variant.process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{variant.port}{PATH}", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline or variant.process.poll() is not None:
                raise RuntimeError(f"{variant.name} did not start") from None
            time.sleep(0.2)


def token_for(variant: Variant, email: str) -> str:
    if variant.ceiling:
        return ""
    response = httpx.post(
        f"http://127.0.0.1:{variant.port}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=10,
    )
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def wrk(
    variant: Variant, seconds: int, connections: int, token: str, owner: str
) -> dict[str, float]:
    env = dict(os.environ, BENCH_TOKEN=token, BENCH_OWNER=owner)
    output = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{connections}",
            f"-d{seconds}s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "auth.lua"),
            f"http://127.0.0.1:{variant.port}{PATH}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latency = {
        q: float(v) * _UNITS[u]
        for q, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    }
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    return {
        "rps": rps,
        "p50_ms": latency.get("50", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install wrk", file=sys.stderr)
        return 2

    print(f"seeding {args.users} users x {args.tasks} tasks ...", flush=True)
    people = prepare(ADMIN_DSN, DB_NAME, args.users, args.tasks)
    owner, email = people[0]
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{DB_NAME}"
    subprocess.run(["redis-cli", "-n", "11", "flushdb"], check=True, capture_output=True)

    variants = [
        Variant(
            "ceiling",
            18001,
            {"TASKWELL_BENCH_DSN": f"postgresql://postgres@127.0.0.1:5432/{DB_NAME}"},
            ceiling=True,
        ),
        Variant("taskwell", 18002, taskwell_env(db_url, TASKWELL_CACHE_ENABLED="false")),
        Variant(
            "taskwell-quiet",
            18003,
            taskwell_env(
                db_url,
                TASKWELL_CACHE_ENABLED="false",
                TASKWELL_ACCESS_LOG="false",
                TASKWELL_METRICS_ENABLED="false",
            ),
        ),
        Variant(
            "redis-uncached",
            18004,
            taskwell_env(
                db_url,
                TASKWELL_REDIS_URL=REDIS_URL,
                TASKWELL_CACHE_ENABLED="false",
            ),
        ),
        Variant("redis-cached", 18005, taskwell_env(db_url, TASKWELL_REDIS_URL=REDIS_URL)),
    ]
    try:
        for variant in variants:
            start(variant)
        tokens = {v.name: token_for(v, email) for v in variants}
        for variant in variants:  # warm-up: connection pools, statement caches, the cache
            wrk(variant, 2, args.connections, tokens[variant.name], str(owner))
        for round_number in range(1, args.rounds + 1):
            for variant in variants:
                result = wrk(
                    variant, args.seconds, args.connections, tokens[variant.name], str(owner)
                )
                variant.runs.append(result)
                print(
                    f"round {round_number} {variant.name:15} {result['rps']:8.0f} req/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                    f"non-2xx {result['non_2xx']:.0f}",
                    flush=True,
                )
    finally:
        for variant in variants:
            if variant.process is not None and variant.process.poll() is None:
                variant.process.send_signal(signal.SIGTERM)
                try:
                    variant.process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    variant.process.kill()
    return report({v.name: v for v in variants}, args)


def _paired(a: Variant, b: Variant) -> float:
    return statistics.median(x["rps"] / y["rps"] for x, y in zip(a.runs, b.runs, strict=True))


def report(by_name: dict[str, Variant], args: argparse.Namespace) -> int:
    print("\n| variant | req/s (median) | p50 ms | p99 ms | non-2xx |")
    print("|---|---|---|---|---|")
    for v in by_name.values():
        print(
            f"| {v.name} | {statistics.median(r['rps'] for r in v.runs):.0f} | "
            f"{statistics.median(r['p50_ms'] for r in v.runs):.1f} | "
            f"{statistics.median(r['p99_ms'] for r in v.runs):.1f} | "
            f"{sum(r['non_2xx'] for r in v.runs):.0f} |"
        )
    app_p99 = statistics.median(r["p99_ms"] for r in by_name["taskwell"].runs)
    checks = [
        ("list: taskwell / ceiling", _paired(by_name["taskwell"], by_name["ceiling"]), 0.70),
        (
            "cache: cached / uncached (Redis)",
            _paired(by_name["redis-cached"], by_name["redis-uncached"]),
            1.5,
        ),
        (
            "observability: with / without logs+metrics",
            _paired(by_name["taskwell"], by_name["taskwell-quiet"]),
            0.90,
        ),
    ]
    print("\n| check | paired ratio (median) | target | result |")
    print("|---|---|---|---|")
    failed = False
    for name, ratio, target in checks:
        ok = ratio >= target
        failed |= not ok
        print(f"| {name} | {ratio:.2f} | >= {target:.2f} | {'PASS' if ok else 'FAIL'} |")
    ok = app_p99 <= 100
    failed |= not ok
    print(f"| list: taskwell p99 | {app_p99:.1f} ms | <= 100 ms | {'PASS' if ok else 'FAIL'} |")
    errors = sum(r["non_2xx"] for v in by_name.values() for r in v.runs)
    failed |= errors > 0
    print(
        f"\n{args.rounds} rounds x {args.seconds} s, wrk -t2 -c{args.connections}; "
        f"non-2xx total {errors:.0f}"
    )
    out = ROOT / "bench" / ".work"
    out.mkdir(exist_ok=True)
    (out / "results.json").write_text(json.dumps({n: v.runs for n, v in by_name.items()}, indent=2))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
