#!/bin/sh
# pg-down.sh: stop the PostgreSQL started by pg-up.sh and remove its
# directory and tests/services/pg.env.  Idempotent.
set -u
here=$(cd "$(dirname "$0")" && pwd)
envfile=$here/pg.env
[ -f "$envfile" ] || exit 0
. "$envfile"
case "${NF_PG_DIR:-}" in
/tmp/nomaflow-testpg.*) ;;
*)	echo "pg-down: $envfile names no test cluster" >&2; exit 1 ;;
esac
if [ -d "$NF_PG_DIR/data" ]; then
	if [ "$(id -u)" -eq 0 ]; then
		runuser -u postgres -- "$NF_PG_BIN/pg_ctl" -D "$NF_PG_DIR/data" \
		    -m immediate -w -t 30 stop >/dev/null 2>&1
	else
		"$NF_PG_BIN/pg_ctl" -D "$NF_PG_DIR/data" -m immediate -w \
		    -t 30 stop >/dev/null 2>&1
	fi
fi
rm -rf "$NF_PG_DIR"
rm -f "$envfile"
