#!/usr/bin/env bash
# Start Taskwell on the embedded default (SQLite, in-process cache) at http://127.0.0.1:8000.
# Extra arguments go to `taskwell serve` (e.g. --port 9000). TASKWELL_* variables configure it.
# With Node.js 20+ it first builds the browser app (frontend/ -> src/taskwell/webapp/dist)
# when that build is missing or older than its sources; without Node the API still runs.
source "$(dirname "$0")/_venv.sh" "postgres,redis"

dist=src/taskwell/webapp/dist
stamp="$dist/.build-stamp"  # touched after a successful build (hidden: never served)

frontend_is_stale() {
  [ -f "$dist/index.html" ] && [ -f "$stamp" ] || return 0
  local sources=(frontend/src frontend/public frontend/scripts frontend/index.html
    frontend/package.json frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json)
  [ -n "$(find "${sources[@]}" -newer "$stamp" -print -quit 2>/dev/null)" ]
}

node_is_recent() {  # Node.js 20 or later, with npm
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 &&
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)'
}

build_frontend() {
  echo "Building the browser app (frontend/)..." >&2
  (
    cd frontend || exit 1
    # npm ci only when node_modules is missing or older than the lock file.
    if [ ! -f node_modules/.package-lock.json ] ||
      [ package-lock.json -nt node_modules/.package-lock.json ]; then
      npm ci --no-audit --no-fund || exit 1
    fi
    npm run build || exit 1
  ) >&2 && touch "$stamp"
}

if [ -f frontend/package.json ] && frontend_is_stale; then
  if ! node_is_recent; then
    echo "Node.js 20+ not found: the browser app is not (re)built. The API works; / answers" \
      "503 until a build exists (README, 'The browser app')." >&2
  elif ! build_frontend; then
    echo "The browser app did not build (see above); serving the API and any earlier build." >&2
  fi
fi

exec .venv/bin/taskwell serve "$@"
