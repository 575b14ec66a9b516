#!/usr/bin/env bash
# Start Taskwell on the embedded default (SQLite, in-process cache) at http://127.0.0.1:8000.
# Extra arguments go to `taskwell serve` (e.g. --port 9000). TASKWELL_* variables configure it.
source "$(dirname "$0")/_venv.sh" "postgres,redis"
exec .venv/bin/taskwell serve "$@"
