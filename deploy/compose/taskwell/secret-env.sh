#!/bin/sh
# The entrypoint of Taskwell's containers in deploy/compose.yaml. Compose hands each secret to a
# container as a file, /run/secrets/<name>; Taskwell reads its settings from the environment.
# So each /run/secrets/taskwell_<setting> becomes TASKWELL_<SETTING> for the command it runs,
# e.g. /run/secrets/taskwell_secret_key -> TASKWELL_SECRET_KEY. Values never reach a command line.
set -eu
for file in /run/secrets/taskwell_*; do
  [ -f "$file" ] || continue
  name=$(basename "$file" | tr '[:lower:]' '[:upper:]')
  value=$(cat "$file")
  export "$name=$value"
done
exec "$@"
