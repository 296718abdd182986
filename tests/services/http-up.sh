#!/bin/sh
# http-up.sh: start the test HTTP server (http_test_server.py) on a free
# 127.0.0.1 port and write its environment to tests/services/http.env (also
# printed on stdout as export lines):
#   NF_HTTP_URL   http://127.0.0.1:PORT
#   NF_HTTP_DIR   the server's temporary directory (pid, port, log)
#
# Idempotent: when http.env names a server that still answers /health,
# nothing is done.  Needs only /usr/bin/python3 (standard library).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
envfile=${NF_HTTP_ENV:-$here/http.env}
PY=/usr/bin/python3

healthy() {
	"$PY" -c 'import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1] + "/health", timeout=2).read() == b"ok" else 1)' "$1" 2>/dev/null
}

if [ -f "$envfile" ]; then
	. "$envfile"
	if [ -n "${NF_HTTP_URL:-}" ] && healthy "$NF_HTTP_URL"; then
		sed 's/^/export /' "$envfile"
		exit 0
	fi
	rm -f "$envfile"
fi

dir=$(mktemp -d /tmp/nomaflow-testhttp.XXXXXX)
setsid "$PY" "$here/http_test_server.py" --port 0 --portfile "$dir/port" \
    >"$dir/server.log" 2>&1 </dev/null &
echo $! >"$dir/pid"
i=0
while [ ! -s "$dir/port" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
if [ ! -s "$dir/port" ]; then
	echo "http-up: the test server did not start:" >&2
	cat "$dir/server.log" >&2
	kill "$(cat "$dir/pid")" 2>/dev/null
	rm -rf "$dir"
	exit 1
fi
cat >"$envfile" <<EOT
NF_HTTP_URL=http://127.0.0.1:$(cat "$dir/port")
NF_HTTP_DIR=$dir
EOT
sed 's/^/export /' "$envfile"
