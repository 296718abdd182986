#!/bin/sh
# bench/web.sh: the web server under many live followers (see
# bench/RESULTS.md, "Web").
#
# Two phases on fresh daemons, the same load but for the clients:
#   0 clients, then CLIENTS (200) Server-Sent Events clients following the
#   log of one busy run (GET /api/runs/N/log/stream, reverse-proxy
#   authentication from 127.0.0.1) while it writes LINES (10,000) lines
#   over about DURATION (20) seconds, and while NDUE (200) cron jobs are
#   due in the same second in the middle of it.
# Per phase: the daemon's CPU time from the busy run's start until every
# client has the end (or the run ended, without clients), its VmRSS
# before and after and its peak (sampled every 0.1 s); the dispatch lateness of the cron slot
# (slot -> run row, as bench/sched.sh measures it), p50/p99/max; and, from
# the clients: how many received every line and the end, reconnections
# (a stream closed by its 256 KiB buffer or a backlog sent in parts), and
# the delivery lag (a line's ts -> received), p50/p99/max over a sample.
# The clients are one python3 process (selectors, non-blocking sockets):
# its CPU is reported too, since it shares the machine.
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/web.sh
# Environment: BUILD (default .), CLIENTS (200), LINES (10000), DURATION
#   (20), NDUE (200), WORKERS (16), KEEP=1 keeps the temporary directory.
#   Needs sqlite3, curl and python3; the build needs the web server
#   (libmicrohttpd).
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
CLIENTS=${CLIENTS:-200}
LINES=${LINES:-10000}
DURATION=${DURATION:-20}
NDUE=${NDUE:-200}
WORKERS=${WORKERS:-16}
DAEMON=$BUILD/nomaflowd
NFCTL=$BUILD/nfctl
WORKER=$BUILD/nomaflow-worker
PY=/usr/bin/python3
DPID=
TMP=

die() {
	echo "web.sh: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null || true
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "web.sh: kept $TMP" >&2
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT INT TERM

[ -x "$DAEMON" ] || die "no $DAEMON (configure and make first; BUILD=...)"
for c in sqlite3 curl; do
	command -v $c >/dev/null || die "needs the $c command"
done
[ -x "$PY" ] || die "needs $PY"
TMP=$(mktemp -d /tmp/nfbench-web.XXXXXX)

# The followers: N non-blocking HTTP/1.0 streams (no chunked encoding: the
# body ends when the server closes).  A stream closed before "event: end"
# reconnects with Last-Event-ID, as a browser does.  Prints one line of
# key=value.
cat > "$TMP/clients.py" <<'EOF'
import json, os, re, selectors, socket, sys, time

host, port, run, n, deadline = (sys.argv[1], int(sys.argv[2]),
                                int(sys.argv[3]), int(sys.argv[4]),
                                float(sys.argv[5]))
sel = selectors.DefaultSelector()
ID = re.compile(rb"^id: (\d+)$", re.M)
TS = re.compile(rb'"ts":(\d+)')
lags = []
stats = {"ended": 0, "reconnects": 0, "refused": 0, "events": 0}


class Client:
    def __init__(self, i):
        self.i, self.last, self.sock, self.nev = i, None, None, 0
        self.connect()

    def connect(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.connect_ex((host, port))
        self.sock, self.head, self.buf, self.out = s, None, b"", (
            "GET /api/runs/%d/log/stream HTTP/1.0\r\nHost: %s\r\n"
            "X-Remote-User: bench\r\nAccept: text/event-stream\r\n%s\r\n" %
            (run, host, "" if self.last is None else
             "Last-Event-ID: %d\r\n" % self.last)).encode()
        sel.register(s, selectors.EVENT_WRITE, self)

    def writable(self):
        try:
            k = self.sock.send(self.out)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return self.closed()
        self.out = self.out[k:]
        if not self.out:
            sel.modify(self.sock, selectors.EVENT_READ, self)

    def readable(self):
        try:
            d = self.sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            d = b""
        if not d:
            return self.closed()
        self.buf += d
        if self.head is None:
            k = self.buf.find(b"\r\n\r\n")
            if k < 0:
                return
            self.head, self.buf = self.buf[:k], self.buf[k + 4:]
            if not self.head.startswith(b"HTTP/1.") or \
                    self.head.split(b" ")[1] != b"200":
                stats["refused"] += 1
        k = self.buf.rfind(b"\n\n")
        if k < 0:
            return
        part, self.buf = self.buf[:k + 2], self.buf[k + 2:]
        ids = ID.findall(part)
        if ids:
            self.last = int(ids[-1])
            self.nev += len(ids)
            stats["events"] += len(ids)
            # One lag sample per read: the newest line in it.
            m = TS.findall(part)
            if m:
                lags.append(time.time() * 1000 - int(m[-1]))
        if b"event: end" in part:
            self.end = True
            stats["ended"] += 1
            sel.unregister(self.sock)
            self.sock.close()
            self.sock = None

    def closed(self):
        sel.unregister(self.sock)
        self.sock.close()
        self.sock = None
        stats["reconnects"] += 1
        self.connect()


t0 = time.time()
cs = [Client(i) for i in range(n)]
while stats["ended"] < n and time.time() < deadline:
    for key, ev in sel.select(timeout=0.5):
        c = key.data
        if ev & selectors.EVENT_WRITE:
            c.writable()
        elif c.sock is not None:
            c.readable()
lags.sort()
q = lambda p: int(lags[min(len(lags) - 1, int(p * len(lags)))]) if lags \
    else -1
last = sorted(c.last or 0 for c in cs)
cpu = os.times()
print("ended=%d of=%d reconnects=%d refused=%d events=%d min_last=%d "
      "max_last=%d lag_p50=%d lag_p99=%d lag_max=%d elapsed=%.1f "
      "client_cpu=%.1f" % (stats["ended"], n, stats["reconnects"],
                           stats["refused"], stats["events"], last[0],
                           last[-1], q(.5), q(.99), q(1.0),
                           time.time() - t0, cpu[0] + cpu[1]))
EOF

PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# The busy run's program: LINES lines in batches over about DURATION s.
BATCH=$((LINES / (DURATION * 10)))
[ "$BATCH" -ge 1 ] || BATCH=1
cat > "$TMP/busy.sh" <<EOF
#!/bin/sh
exec awk 'BEGIN { for (i = 1; i <= $LINES; i++) {
	printf "line %d of the busy run: some text to look like a log line\\n", i
	if (i % $BATCH == 0) { fflush(); system("sleep 0.1") } } }'
EOF
chmod 0755 "$TMP/busy.sh"

# conf DIR T: a configuration; NDUE jobs due at T, one busy manual job.
conf() {
	mkdir -p "$1/jobs.d"
	cat > "$1/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$SRC/policies"
jobs_dir = "jobs.d"
log_level = "info"

[worker]
path = "$WORKER"
max_concurrent = $WORKERS

[web]
listen = "127.0.0.1:$PORT"
trusted_proxies = ["127.0.0.1"]

[[role]]
name = "viewer"
grants = ["view job:*"]

[[user]]
name = "bench"
roles = ["viewer"]
EOT
	due=$(date -u -d "@$2" '+%-S %-M %-H %-d %-m *')
	awk -v n="$NDUE" -v due="$due" -v busy="$TMP/busy.sh" 'BEGIN {
		printf "[[jobs]]\nid = \"busy\"\n[[jobs.steps]]\nname = \"s\"\n"
		printf "type = \"exec\"\nargv = [\"%s\"]\n\n", busy
		for (i = 0; i < n; i++) {
			printf "[[jobs]]\nid = \"j%05d\"\nschedule = \"%s\"\n", i, due
			printf "[[jobs.steps]]\nname = \"s\"\ntype = \"exec\"\n"
			printf "argv = [\"/bin/true\"]\n\n"
		}
	}' > "$1/jobs.d/jobs.toml"
}

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DPID/status"; }
cpu() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }
pct() {
	sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		r = int((p * NR + 99) / 100); if (r < 1) r = 1
		print a[r] }'
}

# phase N: one daemon, N clients.
phase() {
	d=$TMP/p$1
	T=$(($(date +%s) + 8))
	conf "$d" "$T"
	"$DAEMON" -f "$d/nomaflow.toml" > "$d/daemon.log" 2>&1 &
	DPID=$!
	sock=$d/state/nomaflowd.sock
	i=0
	until "$NFCTL" -s "$sock" status >/dev/null 2>&1 &&
	    curl -sf -o /dev/null -H 'X-Remote-User: bench' \
	    "http://127.0.0.1:$PORT/api/status"; do
		i=$((i + 1))
		[ "$i" -lt 400 ] || die "daemon in $d did not start: $(tail -3 "$d/daemon.log")"
		kill -0 "$DPID" 2>/dev/null || die "daemon exited: $(tail -3 "$d/daemon.log")"
		sleep 0.05
	done
	[ "$(date +%s)" -lt "$((T - 2))" ] || die "started too late for the slot"
	rss0=$(field VmRSS)
	cpu0=$(cpu)
	# VmHWM holds start-up peaks (the login's dummy argon2id hash): the
	# phase's own peak is sampled.
	(while kill -0 "$DPID" 2>/dev/null; do
		awk '$1 == "VmRSS:" { print $2 }' "/proc/$DPID/status" 2>/dev/null
		sleep 0.1
	done > "$d/rss") &
	SAMPLER=$!
	"$NFCTL" -s "$sock" run busy >/dev/null
	run=$(sqlite3 "$d/state/nomaflow.db" "SELECT max(id) FROM runs WHERE job_id = 'busy'")
	if [ "$1" -gt 0 ]; then
		$PY "$TMP/clients.py" 127.0.0.1 "$PORT" "$run" "$1" \
		    "$(($(date +%s) + DURATION + 120))" > "$d/clients.out"
	fi
	i=0
	until [ "$(sqlite3 "$d/state/nomaflow.db" "SELECT state FROM runs WHERE id = $run")" = succeeded ]; do
		i=$((i + 1))
		[ "$i" -lt $((DURATION * 20 + 1200)) ] || die "the busy run never ended"
		sleep 0.05
	done
	cpu1=$(cpu)
	i=0
	until [ "$(sqlite3 "$d/state/nomaflow.db" "SELECT count(*) FROM runs WHERE scheduled_for = $T AND state NOT IN ('queued', 'running')")" -ge "$NDUE" ]; do
		i=$((i + 1))
		[ "$i" -lt 1200 ] || die "the slot's runs never all finished"
		sleep 0.05
	done
	rss1=$(field VmRSS)
	kill "$SAMPLER" 2>/dev/null || true
	wait "$SAMPLER" 2>/dev/null || true
	peak=$(sort -n "$d/rss" | tail -1)
	sqlite3 "$d/state/nomaflow.db" "SELECT created_at - $T * 1000 FROM runs WHERE scheduled_for = $T" > "$d/late"
	lines=$(sqlite3 "$d/state/nomaflow.db" "SELECT count(*) FROM logs WHERE run_id = $run")
	lastseq=$(sqlite3 "$d/state/nomaflow.db" "SELECT max(seq) FROM logs WHERE run_id = $run")
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
	printf '%3d clients: daemon CPU %5d ms (busy run %s lines)  VmRSS %6d -> %6d kB (peak %6d kB)\n' \
	    "$1" $(((cpu1 - cpu0) * 10)) "$lines" "$rss0" "$rss1" "$peak"
	printf '             dispatch lateness of %d slots: p50 %s ms  p99 %s ms  max %s ms\n' \
	    "$NDUE" "$(pct "$d/late" 50)" "$(pct "$d/late" 99)" "$(pct "$d/late" 100)"
	if [ "$1" -gt 0 ]; then
		printf '             clients: %s\n' "$(cat "$d/clients.out")"
		# Every client's last id is the run's last line: nothing lost.
		if grep -q "min_last=$lastseq " "$d/clients.out"; then
			echo "             every client got every line (last seq $lastseq) and the end"
		else
			echo "             LOST LINES: the run's last seq is $lastseq"
		fi
	fi
	return 0
}

echo "nomaflow web benchmark: $CLIENTS SSE clients on one run of $LINES lines" \
    "over ~${DURATION} s, $NDUE cron runs due meanwhile, $WORKERS workers," \
    "$(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"
phase 0
phase "$CLIENTS"
