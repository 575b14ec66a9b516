#!/usr/bin/env bash
# Install what the tests need and run the whole suite: lint, format, types, then pytest.
# With TASKWELL_TEST_DATABASE_URL / TASKWELL_TEST_REDIS_URL set, every database test runs on
# SQLite and again on PostgreSQL. Extra arguments go to pytest.
source "$(dirname "$0")/_venv.sh" "dev,postgres,redis"
# The browser app (with Node.js 20+): its build (which the e2e and wheel tests use) and its own
# tests (Vitest). Without Node those pytest tests skip and say why.
if [ -f frontend/package.json ] && command -v npm >/dev/null 2>&1 &&
  node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'; then
  (
    cd frontend
    npm ci --no-audit --no-fund
    npm run build
    npm test
  )
  touch src/taskwell/webapp/dist/.build-stamp # scripts/serve.sh: this build is current
else
  echo "Node.js 20+ not found: the browser app is not built; its tests will be skipped." >&2
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy src
# Test files are spread over TASKWELL_TEST_WORKERS processes (pytest-xdist, whole files per
# worker; 0 runs them all in this one). Each worker has a PostgreSQL database, a Redis
# database and a slice of the loopback ports of its own (tests/workers.py).
workers="${TASKWELL_TEST_WORKERS:-2}"
set +e
.venv/bin/pytest -n "$workers" --dist loadfile "$@"
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
