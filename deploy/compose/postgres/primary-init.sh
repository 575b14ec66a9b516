#!/bin/sh
# Run once by the postgres image when it creates the primary's data directory
# (/docker-entrypoint-initdb.d): the roles of docs/database-security.md (taskwell_owner runs
# migrations and owns the schema, taskwell_app is what the service logs in as) and a
# replication role for the streaming replica. Passwords come from the compose secrets; psql
# reads them as variables, so they appear in no command line and no log.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
  --set=owner_password="$(cat /run/secrets/postgres_owner_password)" \
  --set=app_password="$(cat /run/secrets/postgres_app_password)" \
  --set=replication_password="$(cat /run/secrets/postgres_replication_password)" <<'SQL'
CREATE ROLE taskwell_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE taskwell_app LOGIN PASSWORD :'app_password';
CREATE ROLE replicator REPLICATION LOGIN PASSWORD :'replication_password';
CREATE DATABASE taskwell OWNER taskwell_owner;
REVOKE ALL ON DATABASE taskwell FROM PUBLIC;
GRANT CONNECT ON DATABASE taskwell TO taskwell_app;
\connect taskwell taskwell_owner
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO taskwell_app;
ALTER DEFAULT PRIVILEGES FOR ROLE taskwell_owner IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO taskwell_app;
ALTER DEFAULT PRIVILEGES FOR ROLE taskwell_owner IN SCHEMA public
  GRANT USAGE, SELECT ON SEQUENCES TO taskwell_app;
SQL
# The image's pg_hba.conf allows replication from loopback only; the replica is another host.
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
