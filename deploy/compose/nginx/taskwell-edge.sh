#!/bin/sh
# The edge image's start: render deploy/nginx's templates (shipped in /usr/share/taskwell/nginx)
# into $TASKWELL_NGINX_DIR as deploy/nginx/README.md does, enable the site, check the result and
# run nginx in the foreground. Only ${TASKWELL_NGINX_*} are substituted; nginx's own $variables
# stay as they are. A placeholder without a value stops the start instead of rendering empty.
set -eu
templates=/usr/share/taskwell/nginx
vars=$(env | sed -n 's/^\(TASKWELL_NGINX_[A-Z_]*\)=.*/${\1}/p' | tr '\n' ' ')
missing=$(grep -rhoE '\$\{TASKWELL_NGINX_[A-Z_]+\}' "$templates" --include='*.conf' | sort -u |
  while read -r placeholder; do
    case " $vars " in *" $placeholder "*) ;; *) printf '%s ' "$placeholder" ;; esac
  done)
if [ -n "$missing" ]; then
  echo "taskwell-edge: set ${missing}before starting" >&2
  exit 2
fi
mkdir -p "$TASKWELL_NGINX_MODSEC_TMP_DIR"
cd "$templates"
find . -name '*.conf' | while read -r file; do
  mkdir -p "$(dirname "$TASKWELL_NGINX_DIR/$file")"
  envsubst "$vars" <"$file" >"$TASKWELL_NGINX_DIR/$file"
done
ln -sf "$TASKWELL_NGINX_DIR/taskwell.conf" /etc/nginx/sites-enabled/taskwell.conf
nginx -t
exec nginx -g 'daemon off;'
