#!/bin/sh
# Makes the secrets deploy/compose.yaml reads, in deploy/compose/secrets/ (never committed):
# random passwords and keys, the files and URLs derived from them, and a self-signed TLS
# certificate for the edge unless tls.crt and tls.key are there already (put your own there).
# Existing secrets are kept and derived files are rewritten from them: running it again is safe.
#
# The directory is private to its owner (0700); the files in it are 0644 because each
# container reads its own as a user of its image (postgres, taskwell, grafana, ...).
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets
cd secrets

# No trailing newline: not every reader strips one (a password would then end in it).
random() { openssl rand -hex 32 | tr -d '\n'; }
keep() { # keep NAME COMMAND...: write the command's output to NAME unless it exists
  name=$1
  shift
  [ -s "$name" ] || "$@" >"$name"
  chmod 644 "$name"
}
derive() { # derive NAME TEXT: always rewrite NAME from the kept secrets
  printf '%s' "$2" >"$1"
  chmod 644 "$1"
}

keep postgres_superuser_password random
keep postgres_owner_password random
keep postgres_app_password random
keep postgres_replication_password random
keep redis_password random
keep taskwell_secret_key random
# Keys for sensitive columns at rest: "kid:base64url(32 bytes)" (as `taskwell keys generate`).
keep taskwell_encryption_keys sh -c 'printf "k1:%s" "$(openssl rand 32 | basenc --base64url)"'
keep taskwell_metrics_token random
keep grafana_admin_password random
[ -s tls.crt ] && [ -s tls.key ] || openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
  -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
  -keyout tls.key -out tls.crt 2>/dev/null
chmod 644 tls.crt tls.key

app=$(cat postgres_app_password)
owner=$(cat postgres_owner_password)
redis=$(cat redis_password)
derive pgbouncer_userlist "\"taskwell_app\" \"$app\""
derive redis_auth_conf "requirepass $redis"
# The service reaches PostgreSQL through PgBouncer; migrations go to the primary directly.
derive taskwell_database_url "postgresql+asyncpg://taskwell_app:$app@pgbouncer:6432/taskwell"
derive taskwell_database_replica_urls \
  "postgresql+asyncpg://taskwell_app:$app@pgbouncer:6432/taskwell_replica"
derive migrate_database_url "postgresql+asyncpg://taskwell_owner:$owner@primary:5432/taskwell"
derive taskwell_redis_url "redis://:$redis@redis:6379/0"
echo "secrets are in $(pwd)"
