#!/usr/bin/env bash
# The "Service core" list benchmark: Taskwell vs the Starlette+asyncpg ceiling, same run.
# Usage: bench/run_list_bench.sh [--rounds N] [--seconds S] [...]   (see bench/run.py --help)
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust auth) and wrk (apt-get install -y wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python bench/run.py list "$@"
