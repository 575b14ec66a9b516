"""Benchmarks of the task list, as ratios against a reference measured in the same run.

    .venv/bin/python bench/run.py list                     # the "Service core" benchmark
    .venv/bin/python bench/run.py list --rounds 5 --seconds 10
    .venv/bin/python bench/run.py all                      # every scenario below

Seeds PostgreSQL (database taskwell_bench, dropped and created anew: 1,000 users x 100 tasks,
each user's in their own Inbox project),
starts each server once (uvicorn, 1 worker, same flags, DB pool of 10), signs in --load-users
users through POST /api/v1/auth/login, then drives GET /api/v1/tasks?limit=50 with wrk (-c64,
--latency), the variants one after the other in every round (interleaved), and reports paired
ratios (variant / reference in the same round; the median over rounds):

- list:          Taskwell (production settings, read cache off) vs the Starlette+asyncpg ceiling
- cache:         Taskwell with its read cache on (in-process, then Redis) vs the same cache off
- observability: Taskwell with access log + metrics vs the same with both off

Rate limits stay on but are set far above the offered load, so their bookkeeping is measured
and no request is refused. Only loopback addresses are used; every server is stopped at the end
(also on Ctrl-C, SIGTERM, or when this process dies). Exit status 0 when every check passes.
Files: bench/.work/ (gitignored) holds the token file, server logs and results.json.
"""

from __future__ import annotations

import argparse
import ctypes
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.seed import PASSWORD, prepare  # noqa: E402

WORK = ROOT / "bench" / ".work"
ADMIN_DSN = "postgresql://postgres@127.0.0.1:5432/test"
DB_NAME = "taskwell_bench"
REDIS_URL = "redis://127.0.0.1:6379/11"
PATH = "/api/v1/tasks?limit=50"
GENEROUS = "10000000/minute"
HZ = os.sysconf("SC_CLK_TCK")

CEILING_RATIO = 0.70
P99_BUDGET_MS = 100.0


@dataclass
class Variant:
    name: str
    port: int
    env: dict[str, str]
    ceiling: bool = False
    app: str | None = None  # another ASGI factory (profiling, diagnosis)
    process: subprocess.Popen[bytes] | None = None
    users_file: Path | None = None
    runs: list[dict[str, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Check:
    label: str
    variant: str
    reference: str
    target: float | None  # None: reported, not judged


def taskwell_env(db_url: str, **extra: str) -> dict[str, str]:
    """Production settings (JSON access log on stdout, metrics on, Taskwell's default pool of
    10 + max_overflow 10) with every rate limit far above the offered load."""
    env = {
        "TASKWELL_ENV": "production",
        "TASKWELL_SECRET_KEY": secrets.token_urlsafe(48),
        "TASKWELL_DATABASE_URL": db_url,
        "TASKWELL_DB_POOL_SIZE": "10",
    }
    for group in ("DEFAULT", "USER", "LOGIN", "LOGIN_ACCOUNT", "REGISTER", "REFRESH"):
        env[f"TASKWELL_RATE_LIMIT_{group}"] = GENEROUS
    env.update(extra)
    return env


def scenarios(
    db_url: str, ceiling_dsn: str, overrides: dict[str, str] | None = None
) -> tuple[dict[str, Variant], dict[str, list]]:
    """Every variant, and per scenario: the variants it runs and the ratio checks it makes."""
    variants = [
        Variant("ceiling", 18001, {"TASKWELL_BENCH_DSN": ceiling_dsn}, ceiling=True),
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
        Variant("taskwell-cached", 18004, taskwell_env(db_url, TASKWELL_CACHE_ENABLED="true")),
        Variant(
            "redis-uncached",
            18005,
            taskwell_env(db_url, TASKWELL_REDIS_URL=REDIS_URL, TASKWELL_CACHE_ENABLED="false"),
        ),
        Variant(
            "redis-cached",
            18006,
            taskwell_env(db_url, TASKWELL_REDIS_URL=REDIS_URL, TASKWELL_CACHE_ENABLED="true"),
        ),
    ]
    for variant in variants:
        if not variant.ceiling:
            variant.env.update(overrides or {})
    plans: dict[str, list] = {
        "list": [
            ["ceiling", "taskwell", "taskwell-cached"],
            [
                Check("list: taskwell / ceiling", "taskwell", "ceiling", CEILING_RATIO),
                Check("list: taskwell-cached / ceiling", "taskwell-cached", "ceiling", None),
            ],
        ],
        "cache": [
            ["taskwell", "taskwell-cached", "redis-uncached", "redis-cached"],
            [
                Check("cache: in-process cached / uncached", "taskwell-cached", "taskwell", 1.5),
                Check("cache: Redis cached / uncached", "redis-cached", "redis-uncached", 1.5),
            ],
        ],
        "observability": [
            ["taskwell", "taskwell-quiet"],
            [
                Check(
                    "observability: with / without logs+metrics", "taskwell", "taskwell-quiet", 0.90
                )
            ],
        ],
    }
    return {v.name: v for v in variants}, plans


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)  # PR_SET_PDEATHSIG: SIGTERM when we die


def start(variant: Variant) -> None:
    app = variant.app or (
        "bench.ceiling:create_app" if variant.ceiling else "taskwell.app:create_app_from_env"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TASKWELL_")}
    env.update(variant.env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), variant.env.get("PYTHONPATH")]))
    uvicorn = Path(sys.executable).with_name("uvicorn")
    command = [
        str(uvicorn) if uvicorn.exists() else "uvicorn",
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
    with (WORK / f"{variant.name}.log").open("wb") as log:
        variant.process = subprocess.Popen(
            command,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{variant.port}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if variant.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"{variant.name} did not start; see {WORK / (variant.name + '.log')}"
            )
        time.sleep(0.2)


def stop(variants: list[Variant]) -> None:
    for variant in variants:
        if variant.process is not None and variant.process.poll() is None:
            variant.process.send_signal(signal.SIGTERM)
    for variant in variants:
        if variant.process is None:
            continue
        try:
            variant.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            variant.process.kill()
            variant.process.wait(timeout=5)


def sign_in(variant: Variant, people: list[tuple[Any, str]]) -> None:
    """Write the users file wrk's auth.lua reads: one "<token> <owner>" line per user."""
    base = f"http://127.0.0.1:{variant.port}"

    def login(person: tuple[Any, str]) -> str:
        owner, email = person
        if variant.ceiling:
            return f"- {owner}"
        with httpx.Client(timeout=30) as client:
            response = client.post(
                f"{base}/api/v1/auth/login", json={"email": email, "password": PASSWORD}
            )
        response.raise_for_status()
        return f"{response.json()['access_token']} {owner}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        lines = list(pool.map(login, people))
    variant.users_file = WORK / f"users-{variant.name}.txt"
    variant.users_file.write_text("\n".join(lines) + "\n")
    variant.users_file.chmod(0o600)


def first_page(variant: Variant, owner: str) -> bytes:
    assert variant.users_file is not None
    token = next(
        line.split()[0]
        for line in variant.users_file.read_text().splitlines()
        if line.endswith(owner)
    )
    headers = {"X-Owner": owner}
    if token != "-":
        headers["Authorization"] = f"Bearer {token}"
    response = httpx.get(f"http://127.0.0.1:{variant.port}{PATH}", headers=headers, timeout=10)
    response.raise_for_status()
    return response.content


def check_same_rows(variants: list[Variant], people: list[tuple[Any, str]]) -> None:
    """Every variant must answer byte for byte what the ceiling answers (same rows, same JSON)."""
    reference = next((v for v in variants if v.ceiling), variants[0])
    for owner, _ in (people[0], people[-1]):
        expected = first_page(reference, str(owner))
        page = orjson.loads(expected)
        if len(page["items"]) != 50 or page["next_cursor"] is None:
            raise RuntimeError(f"{reference.name}: expected a full first page for {owner}")
        for variant in variants:
            got = first_page(variant, str(owner))
            if got != expected:
                same = "the same JSON value" if orjson.loads(got) == page else "different JSON"
                raise RuntimeError(
                    f"{variant.name} and {reference.name} answer different bytes for {owner} "
                    f"({same}):\n{got[:300]!r}\n{expected[:300]!r}"
                )


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime + stime


def wrk(
    variant: Variant, seconds: int, connections: int, threads: int, path: str = PATH
) -> dict[str, float]:
    assert variant.users_file is not None
    assert variant.process is not None
    env = dict(os.environ, BENCH_USERS_FILE=str(variant.users_file))
    cpu_before = cpu_seconds(variant.process.pid)
    output = subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "--latency",
            "-s",
            str(ROOT / "bench" / "auth.lua"),
            f"http://127.0.0.1:{variant.port}{path}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        check=True,
    ).stdout
    cpu = cpu_seconds(variant.process.pid) - cpu_before
    match = re.search(r"^\s*(\d+) requests in", output, re.MULTILINE)
    requests = int(match.group(1)) if match else 0
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None or requests == 0:
        raise RuntimeError(f"wrk gave no result for {variant.name}:\n{output}")
    latency = {
        q: float(v) * _UNITS[u]
        for q, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    }
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:.*?timeout (\d+)", output)
    return {
        "rps": float(rps.group(1)),
        "p50_ms": latency.get("50", float("nan")),
        "p90_ms": latency.get("90", float("nan")),
        "p99_ms": latency.get("99", float("nan")),
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
        "server_cpu_ms_per_req": 1000 * cpu / requests,
        "load1": os.getloadavg()[0],
    }


def wait_for_quiet(limit: int) -> None:
    deadline = time.monotonic() + max(0, min(limit, 3600))
    while os.getloadavg()[0] >= 1.0 and time.monotonic() < deadline:
        print(f"waiting for a quieter machine (load {os.getloadavg()[0]:.1f}) ...", flush=True)
        time.sleep(min(15.0, max(0.0, deadline - time.monotonic())))


def _on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "scenario", nargs="?", default="list", choices=("list", "cache", "observability", "all")
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk per variant first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (2 cores here)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100)
    parser.add_argument(
        "--load-users", type=int, default=64, help="signed-in users the requests are spread over"
    )
    parser.add_argument(
        "--taskwell-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra setting for every Taskwell server, e.g. TASKWELL_DB_MAX_OVERFLOW=0",
    )
    parser.add_argument(
        "--database",
        default=DB_NAME,
        help=f"the scratch database to drop, create and seed (default {DB_NAME})",
    )
    parser.add_argument(
        "--wait-quiet",
        type=int,
        default=0,
        metavar="SECONDS",
        help="first wait up to this long for the 1-minute load average to drop below 1",
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.taskwell_env)
    if any(not name.startswith("TASKWELL_") for name in overrides):
        parser.error("--taskwell-env takes TASKWELL_NAME=VALUE")
    if not 1 <= args.rounds <= 20 or not 1 <= args.seconds <= 120 or not 1 <= args.warmup <= 60:
        parser.error("--rounds must be 1..20, --seconds 1..120 and --warmup 1..60")
    if not 1 <= args.connections <= 1024 or not 1 <= args.threads <= args.connections:
        parser.error("--connections must be 1..1024 and --threads 1..connections")
    if not 1 <= args.load_users <= args.users:
        parser.error("--load-users must be between 1 and --users")
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    WORK.mkdir(exist_ok=True)
    wait_for_quiet(args.wait_quiet)

    if args.database == "test" or not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", args.database):
        parser.error("--database must be a plain lower-case name, and not `test`")
    db_url = f"postgresql+asyncpg://postgres@127.0.0.1:5432/{args.database}"
    by_name, plans = scenarios(
        db_url, f"postgresql://postgres@127.0.0.1:5432/{args.database}", overrides
    )
    chosen = list(plans) if args.scenario == "all" else [args.scenario]
    names = list(dict.fromkeys(n for s in chosen for n in plans[s][0]))
    checks: list[Check] = [c for s in chosen for c in plans[s][1]]
    variants = [by_name[n] for n in names]

    started = time.monotonic()
    print(f"seeding {args.users} users x {args.tasks} tasks into {args.database} ...", flush=True)
    people = prepare(ADMIN_DSN, args.database, args.users, args.tasks)
    print(f"seeded in {time.monotonic() - started:.1f} s", flush=True)
    step = max(1, len(people) // args.load_users)
    load_people = people[::step][: args.load_users]
    if any(v.env.get("TASKWELL_REDIS_URL") for v in variants):
        subprocess.run(["redis-cli", "-n", "11", "flushdb"], check=True, capture_output=True)

    try:
        for variant in variants:
            start(variant)
            sign_in(variant, load_people)
        check_same_rows(variants, load_people)
        print(
            f"{len(variants)} servers up, {len(load_people)} users signed in on each, "
            "responses identical; warming up ...",
            flush=True,
        )
        for variant in variants:  # connection pools, statement caches, caches, JIT-free warm
            wrk(variant, args.warmup, args.connections, args.threads)
        for round_number in range(1, args.rounds + 1):
            order = variants if round_number % 2 else list(reversed(variants))
            for variant in order:
                result = wrk(variant, args.seconds, args.connections, args.threads)
                variant.runs.append(result)
                print(
                    f"round {round_number} {variant.name:15} {result['rps']:8.0f} req/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                    f"cpu {result['server_cpu_ms_per_req']:.2f} ms/req  "
                    f"non-2xx {result['non_2xx']:.0f}  load {result['load1']:.1f}",
                    flush=True,
                )
    finally:
        stop(variants)
    return report(variants, checks, args, len(load_people))


def _median(variant: Variant, key: str) -> float:
    return statistics.median(r[key] for r in variant.runs)


def _paired(a: Variant, b: Variant, key: str = "rps") -> float:
    return statistics.median(x[key] / y[key] for x, y in zip(a.runs, b.runs, strict=True))


def report(
    variants: list[Variant], checks: list[Check], args: argparse.Namespace, users: int
) -> int:
    by_name = {v.name: v for v in variants}
    print("\n| variant | req/s (median) | p50 ms | p99 ms | server CPU ms/req | non-2xx |")
    print("|---|---|---|---|---|---|")
    for v in variants:
        print(
            f"| {v.name} | {_median(v, 'rps'):.0f} | {_median(v, 'p50_ms'):.1f} | "
            f"{_median(v, 'p99_ms'):.1f} | {_median(v, 'server_cpu_ms_per_req'):.2f} | "
            f"{sum(r['non_2xx'] + r['timeouts'] for r in v.runs):.0f} |"
        )
    print("\n| check | measured | target | result |")
    print("|---|---|---|---|")
    failed = False

    def line(label: str, measured: str, target: str, ok: bool | None) -> None:
        nonlocal failed
        failed |= ok is False
        verdict = "info" if ok is None else "PASS" if ok else "FAIL"
        print(f"| {label} | {measured} | {target} | {verdict} |")

    for check in checks:
        ratio = _paired(by_name[check.variant], by_name[check.reference])
        runs = ", ".join(
            f"{x['rps'] / y['rps']:.2f}"
            for x, y in zip(by_name[check.variant].runs, by_name[check.reference].runs, strict=True)
        )
        line(
            f"{check.label} (paired req/s ratio; rounds: {runs})",
            f"{ratio:.2f}",
            "-" if check.target is None else f">= {check.target:.2f}",
            None if check.target is None else ratio >= check.target,
        )
    if "taskwell" in by_name:
        p99 = _median(by_name["taskwell"], "p99_ms")
        line(
            "list: taskwell p99 (median of rounds)",
            f"{p99:.1f} ms",
            f"<= {P99_BUDGET_MS:.0f} ms",
            p99 <= P99_BUDGET_MS,
        )
    if "taskwell" in by_name and "ceiling" in by_name:
        ceiling_p99 = _median(by_name["ceiling"], "p99_ms")
        line("list: ceiling p99 (median of rounds)", f"{ceiling_p99:.1f} ms", "-", None)
        cpu = _paired(by_name["ceiling"], by_name["taskwell"], "server_cpu_ms_per_req")
        line("list: server CPU per request, ceiling / taskwell (paired)", f"{cpu:.2f}", "-", None)
    errors = sum(r["non_2xx"] + r["timeouts"] for v in variants for r in v.runs)
    line("errors: non-2xx responses + timeouts", f"{errors:.0f}", "0", errors == 0)
    print(
        f"\n{args.rounds} interleaved rounds x {args.seconds} s after {args.warmup} s warm-up; "
        f"wrk -t{args.threads} -c{args.connections} --latency; requests spread over {users} "
        f"signed-in users; {args.users} users x {args.tasks} tasks; {os.cpu_count()} CPUs, "
        f"load average at the end {os.getloadavg()[0]:.1f}"
    )
    if args.taskwell_env:
        print(f"Taskwell overrides: {' '.join(args.taskwell_env)}")
    load = statistics.median(r["load1"] for v in variants for r in v.runs)
    if load > (os.cpu_count() or 1):
        print(
            f"WARNING: the machine was busy (median load average {load:.1f} on "
            f"{os.cpu_count()} CPUs): other processes shared the CPUs with the servers and wrk. "
            "Ratios are paired per round, but noisier, and absolute figures are low."
        )
    (WORK / "results.json").write_text(
        json.dumps({"args": vars(args), "runs": {v.name: v.runs for v in variants}}, indent=2)
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
