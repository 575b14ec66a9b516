#!/usr/bin/env bash
# Install what the tests need and run the whole suite: lint, format, types, then pytest.
# With TASKWELL_TEST_DATABASE_URL / TASKWELL_TEST_REDIS_URL set, every database test runs on
# SQLite and again on PostgreSQL. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh" "dev,postgres,redis"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy src
set +e
.venv/bin/pytest "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  # pytest's "no tests collected": fine for a filtered run, a broken suite otherwise.
  if [ "$#" -gt 0 ]; then
    echo "pytest collected no tests for: $*"
    exit 0
  fi
  echo "pytest collected no tests: the suite is broken" >&2
  exit 1
fi
exit "$status"
