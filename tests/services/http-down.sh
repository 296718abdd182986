#!/bin/sh
# http-down.sh: stop the server started by http-up.sh, remove its directory
# and tests/services/http.env.  Idempotent.
set -u
here=$(cd "$(dirname "$0")" && pwd)
envfile=${NF_HTTP_ENV:-$here/http.env}
[ -f "$envfile" ] || exit 0
. "$envfile"
case "${NF_HTTP_DIR:-}" in
/tmp/nomaflow-testhttp.*) ;;
*)	echo "http-down: $envfile names no test server" >&2; exit 1 ;;
esac
if [ -f "$NF_HTTP_DIR/pid" ]; then
	pid=$(cat "$NF_HTTP_DIR/pid")
	kill -TERM "$pid" 2>/dev/null
	# A zombie counts as gone (PID 1 may reap it late).
	i=0
	while [ $i -lt 100 ] && [ -r "/proc/$pid/status" ] &&
	    ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null; do
		sleep 0.02
		i=$((i + 1))
	done
	kill -KILL "$pid" 2>/dev/null
fi
rm -rf "$NF_HTTP_DIR"
rm -f "$envfile"
