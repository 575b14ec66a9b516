"""Capacity of the loopback cluster (scripts/cluster): requests/s and p99 through nginx (TLS,
WAF, load balancing) with 1, 2 and 3 app instances, for two profiles:

- list:  authenticated GET /api/v1/tasks?limit=50, spread over many users (bench/auth.lua);
- mixed: per user, 80 % list, 10 % GET one task, 10 % PATCH of a task's description.

One cluster is brought up, seeded through the API, and measured with each instance count in
turn (the data stays; only the app instances and nginx's upstream change). wrk runs on the
same machine, so its CPU is taken from the servers': compare rows of one run, not runs of
different machines.

    .venv/bin/python bench/cluster_capacity.py [--seconds 15] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scripts.cluster_lib import Cluster, ClusterConfig  # noqa: E402

PASSWORD = "bench password long enough 4 zxcvbn"
LIST = "/api/v1/tasks?limit=50"
UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}
UNLIMITED = {
    f"TASKWELL_RATE_LIMIT_{group}": "10000000/minute"
    for group in ("DEFAULT", "USER", "LOGIN", "LOGIN_ACCOUNT", "REGISTER", "REFRESH", "RUM")
}
# "<token> <task id>" per line; each wrk thread walks the users from its own offset.
MIXED_LUA = r"""
local users = {}
local n = 1
function setup(thread) thread:set("offset", tostring(math.random(1, 100000))) end
function init(args)
  for line in io.lines(os.getenv("BENCH_USERS_FILE")) do
    local token, task = line:match("^(%S+)%s+(%S+)$")
    if task then users[#users + 1] = { token = token, task = task } end
  end
  n = (tonumber(offset) or 0) % #users + 1
  math.randomseed(tonumber(offset) or 1)
end
function request()
  local u = users[n]
  n = n % #users + 1
  local auth = { ["Authorization"] = "Bearer " .. u.token }
  local dice = math.random(1, 10)
  if dice == 1 then
    return wrk.format("GET", "/api/v1/tasks/" .. u.task, auth)
  elseif dice == 2 then
    auth["Content-Type"] = "application/json"
    return wrk.format("PATCH", "/api/v1/tasks/" .. u.task, auth,
      '{"description":"edited ' .. math.random(1, 1000000) .. '"}')
  end
  return wrk.format("GET", "/api/v1/tasks?limit=50", auth)
end
"""


async def seed(config: ClusterConfig, users: int, tasks: int) -> list[tuple[str, str]]:
    """Register users, log them in and give each `tasks` tasks, all through nginx."""
    verify = ssl.create_default_context(cafile=str(config.cafile))
    limits = httpx.Limits(max_connections=16)
    async with httpx.AsyncClient(
        base_url=config.https_origin, verify=verify, timeout=30, limits=limits
    ) as client:
        gate = asyncio.Semaphore(16)

        async def one(i: int) -> tuple[str, str]:
            account = {"email": f"bench{i}@example.com", "password": PASSWORD}
            async with gate:
                registered = await client.post("/api/v1/auth/register", json=account)
                assert registered.status_code in (201, 409), registered.text
                login = await client.post("/api/v1/auth/login", json=account)
                login.raise_for_status()
            auth = {"Authorization": f"Bearer {login.json()['access_token']}"}
            first = ""
            for t in range(tasks):
                async with gate:
                    created = await client.post(
                        "/api/v1/tasks", json={"title": f"task {t}"}, headers=auth
                    )
                created.raise_for_status()
                first = first or created.json()["id"]
            return login.json()["access_token"], first

        return list(await asyncio.gather(*(one(i) for i in range(users))))


def wrk(config: ClusterConfig, script: Path, users_file: Path, args: argparse.Namespace) -> str:
    wrk_binary = shutil.which("wrk")
    assert wrk_binary is not None, "wrk is needed: apt-get install -y wrk"
    command = [
        wrk_binary, f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
        "--timeout", "10s", "--latency", "-s", str(script), f"{config.https_origin}{LIST}",
    ]  # fmt: skip
    env = dict(os.environ, BENCH_USERS_FILE=str(users_file))
    return subprocess.run(
        command, env=env, capture_output=True, text=True, timeout=args.seconds + 60, check=True
    ).stdout


def parse(output: str) -> tuple[float, float, int]:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if rps is None or p99 is None:
        raise RuntimeError(f"wrk gave no result:\n{output}")
    return (
        float(rps.group(1)),
        float(p99.group(1)) * UNITS[p99.group(2)],
        int(bad.group(1) if bad else 0),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--tasks", type=int, default=50, help="tasks per user")
    parser.add_argument("--instances", default="1,2,3")
    parser.add_argument("--base-port", type=int, default=25100)
    args = parser.parse_args()
    counts = [int(n) for n in args.instances.split(",")]
    state = Path(tempfile.mkdtemp(prefix="taskwell-capacity-"))
    state.chmod(0o755)
    base = ClusterConfig(
        state_dir=state, base_port=args.base_port, instances=max(counts),
        app_overrides={**UNLIMITED, "TASKWELL_ACCESS_LOG": "false"},
    )  # fmt: skip
    rows = []
    try:
        Cluster(base).up()
        people = asyncio.run(seed(base, args.users, args.tasks))
        users_file, mixed = state / "users.txt", state / "mixed.lua"
        users_file.write_text("".join(f"{token} {task}\n" for token, task in people))
        mixed.write_text(MIXED_LUA)
        profiles = {"list": ROOT / "bench" / "auth.lua", "mixed": mixed}
        list_users = state / "list-users.txt"  # auth.lua reads "<token> <owner>"
        list_users.write_text("".join(f"{token} -\n" for token, _ in people))
        for count in sorted(counts):
            Cluster(base).down()
            config = replace(base, instances=count)
            Cluster(config).up()
            time.sleep(2)
            for name, script in profiles.items():
                source = list_users if name == "list" else users_file
                wrk(config, script, source, replace_seconds(args, 3))  # warm-up
                rps, p99, bad = parse(wrk(config, script, source, args))
                rows.append((count, name, rps, p99, bad))
                print(f"{count} instance(s) {name:<5} {rps:8.0f} req/s  p99 {p99:7.1f} ms  "
                      f"non-2xx {bad}", flush=True)  # fmt: skip
    finally:
        Cluster(base).down(purge=True)
    print("\n| instances | profile | req/s | p99 (ms) | non-2xx |\n|---|---|---|---|---|")
    for count, name, rps, p99, bad in rows:
        print(f"| {count} | {name} | {rps:,.0f} | {p99:.1f} | {bad} |")
    print(
        f"\nwrk -t{args.threads} -c{args.connections} -d{args.seconds}s --latency over HTTPS; "
        f"{args.users} users x {args.tasks} tasks; {os.cpu_count()} CPUs shared by all."
    )
    return 0


def replace_seconds(args: argparse.Namespace, seconds: int) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "seconds": seconds})


if __name__ == "__main__":
    sys.exit(main())
