#!/bin/sh
# bench/login.sh: how long a burst of logins stalls the supervisor's loop
# (see bench/RESULTS.md, "Web: logins and the loop").
#
# One daemon with [web]; BURST (8) logins with wrong passwords start at
# once, each from its own loopback address (127.0.0.10, .11, ...) and for
# its own unknown name, so neither the per-address nor the per-account
# limiter refuses any: BURST full argon2id checks (the dummy hash).  Meanwhile
# a probe sends GET /api/status (reverse-proxy authenticated from
# 127.0.0.1) back to back, one at a time; a probe's latency is how long
# the loop took to serve it.  Reported: the burst's duration (first login
# sent -> last answered), the probes answered during it, their latency
# p50 and max (the max is the longest the loop was unavailable), and a
# baseline max without logins.  ROUNDS (5) bursts, 2 s apart (the budget
# refills at 2 per second).
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/login.sh
# Environment: BUILD (default .), BURST (8, at most the budget of 8),
#   ROUNDS (5).  Needs curl and python3.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
BURST=${BURST:-8}
ROUNDS=${ROUNDS:-5}
DAEMON=$BUILD/nomaflowd
NFCTL=$BUILD/nfctl
DPID=
TMP=

die() {
	echo "login.sh: $*" >&2
	exit 1
}
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

[ -x "$DAEMON" ] || die "no $DAEMON (configure and make first; BUILD=...)"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/nf-login-bench.XXXXXX")
PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$TMP/jobs.d"
cat > "$TMP/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$SRC/policies"
jobs_dir = "jobs.d"

[worker]
path = "$BUILD/nomaflow-worker"

[web]
listen = "127.0.0.1:$PORT"
trusted_proxies = ["127.0.0.1"]

[[user]]
name = "bench"
roles = []
EOT
"$DAEMON" -f "$TMP/nomaflow.toml" > "$TMP/daemon.log" 2>&1 &
DPID=$!
i=0
until curl -sf -o /dev/null -H 'X-Remote-User: bench' \
    "http://127.0.0.1:$PORT/api/status"; do
	i=$((i + 1))
	[ "$i" -lt 200 ] || die "the daemon did not start: $(tail -3 "$TMP/daemon.log")"
	sleep 0.05
done

python3 - "$PORT" "$BURST" "$ROUNDS" <<'EOF'
import http.client, sys, threading, time

port, burst, rounds = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

def status():
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    t = time.monotonic()
    c.request("GET", "/api/status", headers={"X-Remote-User": "bench"})
    r = c.getresponse(); r.read(); c.close()
    assert r.status == 200, r.status
    return time.monotonic() - t

def login(i, out):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30,
        source_address=("127.0.0.%d" % (10 + i), 0))
    c.request("POST", "/api/login", headers={"Content-Type": "application/json"},
        body='{"user": "nobody%d", "password": "wrong password"}' % i)
    r = c.getresponse(); r.read(); c.close()
    out[i] = (r.status, time.monotonic())

def pct(a, p):
    a = sorted(a)
    return a[min(len(a) - 1, int(p * len(a) / 100))] if a else float("nan")

base = []
t = time.monotonic()
while time.monotonic() - t < 1.0:
    base.append(status())
print("baseline (no logins): %d probes in 1 s, p50 %.1f ms, max %.1f ms" %
      (len(base), pct(base, 50) * 1e3, max(base) * 1e3))
for rnd in range(rounds):
    out = [None] * burst
    th = [threading.Thread(target=login, args=(i, out)) for i in range(burst)]
    t0 = time.monotonic()
    for x in th: x.start()
    lat = []
    while any(x.is_alive() for x in th):
        lat.append(status())
    for x in th: x.join()
    codes = sorted(set(o[0] for o in out))
    end = max(o[1] for o in out)
    print("round %d: %d logins (HTTP %s) in %.0f ms; %d probes answered, "
          "p50 %.1f ms, max %.1f ms" % (rnd + 1, burst,
          ",".join(map(str, codes)), (end - t0) * 1e3, len(lat),
          pct(lat, 50) * 1e3, max(lat) * 1e3))
    time.sleep(max(2.0, burst / 2.0 + 0.5))
EOF
