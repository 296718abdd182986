#!/bin/sh
# quickstart.sh: build Nomaflow, start nomaflowd on examples/ with the
# embedded SQLite store in ./state, run the demo job and follow its live log.
set -e
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/deps.sh
[ -x configure ] || ./autogen.sh >/dev/null
mkdir -p build
cd build
[ -f Makefile ] || ../configure -q
make -s -j"$(nproc)" nomaflowd nomaflow-worker nomaflow-worker-sql \
    nomaflow-worker-sqlite nomaflow-worker-http nfctl
cd "$top"

export NOMAFLOW_STATE="$top/state"
# python steps run the runner module of this source tree.
export NOMAFLOW_PYTHON_RUNNER="$top/python/nomaflow_runner.py"
sock="$NOMAFLOW_STATE/nomaflowd.sock"
nfctl="$top/build/nfctl -s $sock"
build/nomaflowd -n -f examples/nomaflow.toml
if ! $nfctl status >/dev/null 2>&1; then
	mkdir -p "$NOMAFLOW_STATE"
	build/nomaflowd -f examples/nomaflow.toml \
	    >> "$NOMAFLOW_STATE/nomaflowd.log" 2>&1 &
	echo "nomaflowd started (pid $!), log in state/nomaflowd.log"
	i=0
	until $nfctl status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ]; then
			cat "$NOMAFLOW_STATE/nomaflowd.log"
			exit 1
		fi
		sleep 0.05
	done
fi
# The "orders" job's API, offline: examples/api/ served on 127.0.0.1:8765.
if ! /usr/bin/python3 -c 'import urllib.request as u
u.urlopen("http://127.0.0.1:8765/orders.json", timeout=1)' 2>/dev/null; then
	mkdir -p "$NOMAFLOW_STATE"
	/usr/bin/python3 -m http.server --bind 127.0.0.1 \
	    --directory examples/api 8765 >> "$NOMAFLOW_STATE/api.log" 2>&1 &
	echo "example API started (pid $!) on http://127.0.0.1:8765/"
	sleep 0.3
fi
$nfctl jobs
echo
$nfctl run demo --follow || true
echo
$nfctl run orders --follow || true
echo
$nfctl runs --job demo --limit 5
cat <<MSG

The daemon keeps running (the demo job also runs every hour).  Try:
  build/nfctl -s $sock run orders -f -p currency=USD
  build/nfctl -s $sock runs
  build/nfctl -s $sock run show 1
The web UI: set a password for its admin account, then open
http://127.0.0.1:8080/
  build/nfctl -s $sock user passwd admin
Stop it (and the example API on port 8765) with:
  kill \$(pgrep -f 'nomaflowd -f examples/nomaflow.toml') \
      \$(pgrep -f 'http.server --bind 127.0.0.1 --directory examples/api')
MSG
