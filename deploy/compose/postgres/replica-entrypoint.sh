#!/bin/sh
# The replica's entrypoint. On the first start (empty data directory) it clones the primary
# with pg_basebackup: WAL streamed during the copy (-X stream), a replication slot of its own so
# the primary keeps the WAL it has not replayed yet (-C -S replica1), and standby.signal plus
# primary_conninfo written for it (-R). Then the image's own entrypoint starts it; it finds an
# initialised data directory and runs a read-only hot standby that streams from the primary.
#
# Rebuilding the replica from scratch (its volume removed) needs the old slot gone first:
#   docker compose exec primary psql -U postgres -c "SELECT pg_drop_replication_slot('replica1')"
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  chown postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
  PGPASSWORD="$(cat /run/secrets/postgres_replication_password)" \
    gosu postgres pg_basebackup --host=primary --username=replicator --pgdata="$PGDATA" \
    --wal-method=stream --create-slot --slot=replica1 --write-recovery-conf --checkpoint=fast
fi
exec docker-entrypoint.sh postgres
