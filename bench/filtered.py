"""Filtered lists over one 100,000-task project, against that project's unfiltered list (issue 8).

    .venv/bin/python bench/filtered.py                          # seed, plans, measure, judge
    .venv/bin/python bench/filtered.py --rounds 5 --seconds 6 --warmup 3 --wait-quiet 60
    .venv/bin/python bench/filtered.py --no-seed --plans-only   # the query plans alone

The requirement: "Filtered lists over a 100,000-task project stay within 1.5x of the unfiltered
list's p99". Seeds database tw_bench_filtered (dropped and created anew; bench/seed.py's
prepare_shared: one project of 100,000 tasks shared by 8 members, with sections, assignees,
labels, subtasks and a trash, beside 500 other users' Inboxes), starts one Taskwell server like
bench/run.py's target variant (production settings, read cache off, uvicorn 1 worker), signs in
one member (an editor) and drives each variant's GET /api/v1/tasks?project_id=P&limit=50&...
with wrk (-c64 --latency), the variants one after the other in every round (the order reversed
every other round). Judged per round: variant p99 / unfiltered p99 <= 1.5, the median over the
rounds.

Before the load it checks that each variant's HTTP answer holds exactly the rows of its SQL,
which it compiles the way Taskwell does (build_list for the variant's shape, asyncpg dialect,
PreparedQuery.bind), and writes that SQL's EXPLAIN (ANALYZE, BUFFERS) to
bench/.work/query-plans.md: the plan PostgreSQL settles on for the prepared statement after
repeated executions under the plan_cache_mode the server's read pool uses for it (custom plans
for every shape with a filter, ?project_id= included), with its median round trip and the
PostgreSQL CPU one execution costs.

Besides latency, every wrk run records the CPU a request cost: the server process's and that
of the PostgreSQL backends connected to the database (this machine's PostgreSQL). On a busy
machine the p99 ratios are compressed and noisy; the CPU ratio is what a quiet machine's
throughput (and so its p99 at a fixed number of connections) roughly follows once the server
and PostgreSQL together fill its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
import httpx
import orjson
from sqlalchemy.dialects.postgresql.asyncpg import PGDialect_asyncpg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import (  # noqa: E402
    ADMIN_DSN,
    WORK,
    Variant,
    cpu_seconds,
    start,
    stop,
    taskwell_env,
    wait_for_quiet,
    wrk,
)
from bench.seed import PASSWORD, QUERY_WORD, SharedProject, prepare_shared  # noqa: E402
from taskwell.db.prepared import PreparedQuery  # noqa: E402
from taskwell.tasks.repository import ListQuery, build_list  # noqa: E402

DB_NAME = "tw_bench_filtered"
PORT = 18011
P99_RATIO = 1.5
BASELINE = "unfiltered"
ABSENT_WORD = "zyzzyva"
# ListQuery's field -> the query parameter GET /api/v1/tasks reads it from.
PARAM = {
    "project_id": "project_id",
    "section_id": "section_id",
    "parent_id": "parent_id",
    "assignee_id": "assignee_id",
    "labels": "label",
    "statuses": "status",
    "priorities": "priority",
    "text": "q",
    "due_before": "due_before",
    "due_after": "due_after",
}


@dataclass
class Case:
    name: str
    filters: dict[str, Any]  # ListQuery fields besides user_id and project_id
    query: ListQuery = field(init=False)
    path: str = field(init=False)
    runs: list[dict[str, float]] = field(default_factory=list)
    matching: int = 0
    db_ms: float = 0.0
    db_cpu_ms: float = 0.0


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return str(value)


def cases(shared: SharedProject, now: datetime) -> list[Case]:
    label = shared.reader_labels[0]
    window_start = now.replace(second=0, microsecond=0)
    chosen = [
        Case(BASELINE, {}),
        Case("status=done", {"statuses": ("done",)}),
        Case("priority=4", {"priorities": (4,)}),
        Case("assignee_id", {"assignee_id": shared.members[2][0]}),
        Case("label", {"labels": (label,)}),
        Case("section_id", {"section_id": shared.sections[0]}),
        Case(
            "due window (7 days)",
            {"due_after": window_start, "due_before": window_start + timedelta(days=7)},
        ),
        Case(f"q={QUERY_WORD}", {"text": QUERY_WORD}),
        # A word no task holds: every live task of the project is looked at.
        Case(f"q={ABSENT_WORD} (no match)", {"text": ABSENT_WORD}),
        Case(
            "status+priority+label",
            {"statuses": ("done",), "priorities": (4,), "labels": (label,)},
        ),
    ]
    for case in chosen:
        case.query = ListQuery(
            user_id=shared.reader[0], project_id=shared.project_id, limit=50, **case.filters
        )
        pairs: list[tuple[str, str]] = [("project_id", str(shared.project_id))]
        for name, value in case.filters.items():
            for item in value if isinstance(value, tuple) else (value,):
                pairs.append((PARAM[name], _text(item)))
        pairs.append(("limit", "50"))
        case.path = "/api/v1/tasks?" + urlencode(pairs)
    return chosen


def prepared(case: Case, *, limit: int | None = None) -> tuple[str, list[Any]]:
    """The SQL Taskwell runs for this case, and its arguments, as Taskwell binds them."""
    query = PreparedQuery.compile(build_list(case.query.shape(), "postgresql"), PGDialect_asyncpg())
    params = case.query.params()
    if limit is not None:
        params["limit"] = limit
    return query.sql, query.bind(params)


def custom_plan(case: Case) -> bool:
    """Whether the server plans this case's statement for its values on every run
    (TaskRepository._prepare_list: every shape with a filter, ?project_id= included, so all
    the cases here; the read pool runs those under plan_cache_mode = force_custom_plan)."""
    return case.query.shape().filtered


async def plan_mode(conn: asyncpg.Connection, case: Case) -> None:
    """The connection plans as the server's read pool does for this case (session-wide
    here, SET LOCAL per read there: the same plans)."""
    mode = "force_custom_plan" if custom_plan(case) else "auto"
    await conn.execute(f"SET plan_cache_mode = {mode}")


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"no literal for {value!r}")
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, datetime):
        value = value.isoformat()
    return "'" + str(value).replace("'", "''") + "'"


async def check_and_explain(dsn: str, chosen: list[Case], token: str) -> str:
    """Each case's HTTP page must hold the rows of its SQL; returns the plans as Markdown."""
    conn = await asyncpg.connect(dsn)
    try:
        out = [
            "## The plans (generated by bench/filtered.py)\n",
            f"PostgreSQL {await conn.fetchval('SHOW server_version')}. Each plan: PREPARE, "
            "6 x EXECUTE, then EXPLAIN (ANALYZE, BUFFERS) EXECUTE, under the plan_cache_mode "
            "the server's read pool uses for the statement (force_custom_plan for a filtered "
            "list, the default for the plain one), so the plan is the one the server's cached "
            "prepared statement runs ($n in a plan: the generic plan).\n",
        ]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{PORT}", timeout=30) as client:
            for number, case in enumerate(chosen):
                await plan_mode(conn, case)
                sql, args = prepared(case)
                rows = await conn.fetch(sql, *args)
                response = await client.get(case.path, headers={"Authorization": f"Bearer {token}"})
                response.raise_for_status()
                page = orjson.loads(response.content)
                if [item["id"] for item in page["items"]] != [str(r["id"]) for r in rows[:50]]:
                    raise RuntimeError(f"{case.name}: the HTTP page is not the SQL's rows")
                all_sql, all_args = prepared(case, limit=1_000_000)
                case.matching = await conn.fetchval(
                    f"SELECT count(*) FROM ({all_sql}) AS every_row",  # noqa: S608 (Taskwell's SQL)
                    *all_args,
                )
                name = f"bench_case_{number}"
                await conn.execute(f"PREPARE {name} AS {sql}")
                execute = f"EXECUTE {name}({', '.join(_literal(a) for a in args)})"
                for _ in range(6):
                    await conn.execute(execute)
                plan = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) {execute}")
                await conn.execute(f"DEALLOCATE {name}")
                case.db_ms, case.db_cpu_ms = await _query_cost(conn, sql, args)
                if case.name == BASELINE:
                    out.append(f"The whole statement, unfiltered:\n\n```sql\n{sql}\n```\n")
                where = re.search(r"FROM tasks \nWHERE (.*?) ORDER BY", sql, re.DOTALL)
                # Under force_custom_plan the plan is custom ($n there is an InitPlan's output);
                # otherwise a parameter left in the plan marks the generic one.
                generic = not custom_plan(case) and any("$" in r[0] for r in plan)
                kind = "generic" if generic else "custom"
                out.append(
                    f"### {case.name}\n\n`GET {case.path}`\n\n{case.matching} matching tasks, "
                    f"{len(page['items'])} on the page; {case.db_ms:.2f} ms per query (median "
                    "round trip of the prepared statement on one connection), "
                    f"{case.db_cpu_ms:.2f} ms of PostgreSQL CPU per query; "
                    f"{kind} plan. The page's WHERE:\n\n```sql\n"
                    f"{where.group(1) if where else sql}\n```\n\n"
                    f"arguments: `{[str(a) for a in args]}`\n\n```text\n"
                    + "\n".join(r[0] for r in plan)
                    + "\n```\n"
                )
    finally:
        await conn.close()
    return "\n".join(out)


async def _query_cost(conn: asyncpg.Connection, sql: str, args: list[Any]) -> tuple[float, float]:
    """(median round trip, PostgreSQL CPU per execution) in ms of the query as the server runs
    it: an asyncpg prepared statement, executed again and again (so PostgreSQL has made its
    custom-or-generic plan choice). The CPU time, the backend's own, grows far less with the
    machine's load than the round trip does."""
    statement = await conn.prepare(sql)
    for _ in range(10):
        await statement.fetch(*args)
    backend = conn.get_server_pid()
    cpu_before = cpu_seconds(backend)
    times: list[float] = []
    deadline = time.perf_counter() + 3.0
    while len(times) < 300 and (len(times) < 5 or time.perf_counter() < deadline):
        started = time.perf_counter()
        await statement.fetch(*args)
        times.append(time.perf_counter() - started)
    cpu = cpu_seconds(backend) - cpu_before
    return 1000 * statistics.median(times), 1000 * cpu / len(times)


async def _backend_pids(dsn: str) -> list[int]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [row["pid"] for row in rows]


def database_cpu(dsn: str) -> dict[int, float]:
    """CPU time so far of each PostgreSQL backend serving the benchmark database (the server's
    connections: this machine's PostgreSQL), by process id."""
    times: dict[int, float] = {}
    for pid in asyncio.run(_backend_pids(dsn)):
        try:
            times[pid] = cpu_seconds(pid)
        except FileNotFoundError:  # the connection closed meanwhile
            continue
    return times


def database_cpu_since(dsn: str, before: dict[int, float]) -> float:
    """The backends' CPU since `before`: a backend that started since counts whole, one that
    ended since is left out (its last CPU is no longer readable; summing totals instead gave
    negative figures when the pool replaced a connection)."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in database_cpu(dsn).items())


def measure(
    server: Variant, dsn: str, seconds: int, connections: int, path: str
) -> dict[str, float]:
    """One wrk run (bench/run.py's), with the database's CPU per request beside the server's."""
    db_before = database_cpu(dsn)
    result = wrk(server, seconds, connections, 1, path)
    requests = result["rps"] * seconds
    result["db_cpu_ms_per_req"] = 1000 * database_cpu_since(dsn, db_before) / requests
    return result


def drain(path: str, token: str) -> None:
    """Wait (bounded) until the server has worked off what wrk left queued: a slow variant
    leaves requests in flight when wrk stops, and they would be measured in the next one."""
    deadline = time.monotonic() + 120
    with httpx.Client(base_url=f"http://127.0.0.1:{PORT}", timeout=60) as client:
        while time.monotonic() < deadline:
            started = time.monotonic()
            response = client.get(path, headers={"Authorization": f"Bearer {token}"})
            response.raise_for_status()
            if time.monotonic() - started < 0.1:
                return
            time.sleep(0.5)


def sign_in(email: str) -> str:
    response = httpx.post(
        f"http://127.0.0.1:{PORT}/api/v1/auth/login",
        json={"email": email, "password": PASSWORD},
        timeout=30,
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def _on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=(__doc__ or "").split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=5, help="seconds of wrk per variant first")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--tasks", type=int, default=100_000, help="tasks in the shared project")
    parser.add_argument("--database", default=DB_NAME)
    parser.add_argument("--no-seed", action="store_true", help="reuse the database as it is")
    parser.add_argument("--plans-only", action="store_true", help="check and EXPLAIN, no load")
    parser.add_argument("--only", action="append", default=[], help="variants whose name has this")
    parser.add_argument(
        "--taskwell-env", action="append", default=[], metavar="NAME=VALUE", help="as run.py's"
    )
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS")
    args = parser.parse_args()
    if args.database in ("test", "taskwell_bench") or not re.fullmatch(
        r"[a-z_][a-z0-9_]{0,62}", args.database
    ):
        parser.error("--database must be a plain lower-case name, not test or taskwell_bench")
    if not 1 <= args.rounds <= 20 or not 1 <= args.seconds <= 120 or not 1 <= args.warmup <= 60:
        parser.error("--rounds must be 1..20, --seconds 1..120 and --warmup 1..60")
    if not 1 <= args.connections <= 1024 or not 1_000 <= args.tasks <= 1_000_000:
        parser.error("--connections must be 1..1024 and --tasks 1000..1000000")
    overrides = dict(item.split("=", 1) for item in args.taskwell_env)
    if any(not name.startswith("TASKWELL_") for name in overrides):
        parser.error("--taskwell-env takes TASKWELL_NAME=VALUE")
    if shutil.which("wrk") is None:
        print("wrk is needed: apt-get install -y wrk", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _on_sigterm)
    WORK.mkdir(exist_ok=True)
    dsn = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    state = WORK / f"{args.database}.json"
    if args.no_seed:
        saved = orjson.loads(state.read_bytes())
        shared = SharedProject(
            project_id=uuid.UUID(saved["project_id"]),
            reader=(uuid.UUID(saved["reader"][0]), saved["reader"][1]),
            members=[(uuid.UUID(u), e) for u, e in saved["members"]],
            sections=[uuid.UUID(s) for s in saved["sections"]],
            reader_labels=[uuid.UUID(s) for s in saved["reader_labels"]],
            tasks=saved["tasks"],
        )
        now = datetime.fromisoformat(saved["now"])
    else:
        started = time.monotonic()
        print(f"seeding a project of {args.tasks} tasks into {args.database} ...", flush=True)
        shared = prepare_shared(ADMIN_DSN, args.database, tasks=args.tasks)
        now = datetime.now(UTC)
        print(f"seeded in {time.monotonic() - started:.1f} s", flush=True)
        state.write_bytes(
            orjson.dumps(
                {
                    "project_id": shared.project_id,
                    "reader": shared.reader,
                    "members": shared.members,
                    "sections": shared.sections,
                    "reader_labels": shared.reader_labels,
                    "tasks": shared.tasks,
                    "now": now,
                },
                default=str,
            )
        )
    chosen = [
        c
        for c in cases(shared, now)
        if c.name == BASELINE or not args.only or any(t in c.name for t in args.only)
    ]
    server = Variant(
        "taskwell-filtered",
        PORT,
        taskwell_env(
            dsn.replace("postgresql://", "postgresql+asyncpg://"),
            TASKWELL_CACHE_ENABLED="false",
            **overrides,
        ),
    )
    try:
        start(server)
        token = sign_in(shared.reader[1])
        server.users_file = WORK / "users-filtered.txt"
        server.users_file.write_text(f"{token} {shared.reader[0]}\n")
        server.users_file.chmod(0o600)
        plans = asyncio.run(check_and_explain(dsn, chosen, token))
        (WORK / "query-plans.md").write_text(plans)
        print(
            f"{len(chosen)} variants answer their SQL's rows; plans in {WORK / 'query-plans.md'}",
            flush=True,
        )
        for case in chosen:
            print(
                f"  {case.name:24} {case.matching:6} matching tasks  "
                f"{case.db_ms:7.2f} ms per query ({case.db_cpu_ms:.2f} ms CPU)  {case.path}",
                flush=True,
            )
        if args.plans_only:
            return 0
        wait_for_quiet(args.wait_quiet)
        for case in chosen:
            wrk(server, args.warmup, args.connections, 1, case.path)
            drain(chosen[0].path, token)
        for round_number in range(1, args.rounds + 1):
            order = chosen if round_number % 2 else list(reversed(chosen))
            for case in order:
                result = measure(server, dsn, args.seconds, args.connections, case.path)
                drain(chosen[0].path, token)
                case.runs.append(result)
                print(
                    f"round {round_number} {case.name:24} {result['rps']:7.0f} req/s  "
                    f"p50 {result['p50_ms']:6.1f} ms  p99 {result['p99_ms']:6.1f} ms  "
                    f"cpu {result['server_cpu_ms_per_req']:.2f} + db "
                    f"{result['db_cpu_ms_per_req']:.2f} ms/req  "
                    f"non-2xx {result['non_2xx']:.0f}  load {result['load1']:.1f}",
                    flush=True,
                )
    finally:
        stop([server])
    return report(chosen, args)


def _cpu(run: dict[str, float]) -> float:
    return run["server_cpu_ms_per_req"] + run["db_cpu_ms_per_req"]


def report(chosen: list[Case], args: argparse.Namespace) -> int:
    """The table; besides the judged p99 ratio, the CPU a request costs (the server's and its
    PostgreSQL backends'), which a busy machine blurs far less than it blurs latency."""
    baseline = next(c for c in chosen if c.name == BASELINE)
    print(
        "\n| variant | matching tasks | query ms (CPU) | req/s | p50 ms | p99 ms "
        "| CPU ms/req server + db (÷ unfiltered) | p99 / unfiltered p99 (rounds) | <= 1.5 |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    failed = False
    for case in chosen:
        ratios = [x["p99_ms"] / y["p99_ms"] for x, y in zip(case.runs, baseline.runs, strict=True)]
        ratio = statistics.median(ratios)
        cpu_ratio = statistics.median(
            _cpu(x) / _cpu(y) for x, y in zip(case.runs, baseline.runs, strict=True)
        )
        ok = ratio <= P99_RATIO
        failed |= not ok and case is not baseline
        server_cpu = statistics.median(r["server_cpu_ms_per_req"] for r in case.runs)
        db_cpu = statistics.median(r["db_cpu_ms_per_req"] for r in case.runs)
        print(
            f"| {case.name} | {case.matching} | {case.db_ms:.2f} ({case.db_cpu_ms:.2f}) | "
            f"{statistics.median(r['rps'] for r in case.runs):.0f} | "
            f"{statistics.median(r['p50_ms'] for r in case.runs):.1f} | "
            f"{statistics.median(r['p99_ms'] for r in case.runs):.1f} | "
            f"{server_cpu:.2f} + {db_cpu:.2f} ({cpu_ratio:.2f}) | "
            f"**{ratio:.2f}** ({', '.join(f'{r:.2f}' for r in ratios)}) | "
            f"{'-' if case is baseline else 'PASS' if ok else 'FAIL'} |"
        )
    errors = sum(r["non_2xx"] + r["timeouts"] for c in chosen for r in c.runs)
    failed |= errors > 0
    load = statistics.median(r["load1"] for c in chosen for r in c.runs)
    print(
        f"\nnon-2xx + timeouts: {errors:.0f}. {args.rounds} interleaved rounds x {args.seconds} s "
        f"after {args.warmup} s warm-up each; wrk -t1 -c{args.connections} --latency, one "
        f"signed-in member; {os.cpu_count()} CPUs, median load average {load:.1f}"
    )
    if load > (os.cpu_count() or 1):
        print("WARNING: the machine was busy; ratios are paired per round but noisier.")
    (WORK / "filtered-results.json").write_bytes(
        orjson.dumps(
            {
                "args": vars(args),
                "query_ms": {c.name: c.db_ms for c in chosen},
                "query_cpu_ms": {c.name: c.db_cpu_ms for c in chosen},
                "runs": {c.name: c.runs for c in chosen},
            },
            option=orjson.OPT_INDENT_2,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
