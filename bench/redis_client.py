"""CPU per Redis command through redis-py's asyncio client, as Taskwell's hot path uses it.

    .venv/bin/python bench/redis_client.py [--commands 60000]

60 concurrent callers run EVALSHA of a one-line HMGET script against 127.0.0.1:6379 db 13
(the rate limiter's and the read cache's kind of call) through the pool Taskwell configures
(kv/redis_client.py), and this process's CPU time is divided by the commands sent. Compare
redis-py releases by installing another into a scratch directory and putting it first on
PYTHONPATH. A diagnostic, not a pass/fail check; see docs/benchmarks.md ("Redis client").
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import redis
import uvloop

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from taskwell.kv.redis_client import make_redis
from taskwell.settings import Settings

CALLERS = 60


async def main(commands: int) -> None:
    client = make_redis(Settings(redis_url="redis://127.0.0.1:6379/13"))
    script = client.register_script("return redis.call('HMGET', KEYS[1], ARGV[1], ARGV[2])")
    per_caller = max(1, commands // CALLERS)

    async def caller() -> None:
        for _ in range(per_caller):
            await script(keys=["bench:h"], args=["g", "l"])

    try:
        await asyncio.gather(*(caller() for _ in range(CALLERS)))  # connect, load the script
        started = time.process_time()
        await asyncio.gather(*(caller() for _ in range(CALLERS)))
        spent = time.process_time() - started
    finally:
        await client.aclose()
    print(
        f"redis-py {redis.__version__}: {spent / (per_caller * CALLERS) * 1e6:.1f} us CPU "
        f"per command ({per_caller * CALLERS} commands, {CALLERS} concurrent callers)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--commands", type=int, default=60_000)
    args = parser.parse_args()
    if not CALLERS <= args.commands <= 1_000_000:
        parser.error(f"--commands must be {CALLERS}..1000000")
    uvloop.run(main(args.commands))
