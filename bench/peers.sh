#!/bin/sh
# bench/peers.sh: Nomaflow and Dagu side by side on the same one-step job
# (see bench/RESULTS.md for figures).
#
# Both run one job whose one step runs /bin/true, triggered by hand over
# each daemon's own interface, and both measured by the same clock:
#   latency    from writing the trigger to seeing the run ended, p50/p99,
#              one run at a time (window 1) and 8 in flight (window 8).
#              Nomaflow: bench/loadgen (control socket, "run" then "logs
#              follow" until "end").  Dagu: POST /api/v2/dags/NAME/start,
#              then GET /api/v2/dag-runs/NAME/ID every POLL_MS until the
#              run has a final status (Dagu has no push for this; the poll
#              adds up to POLL_MS to its latency).  Dagu refuses a second
#              run of a running DAG, so its slot i triggers its own DAG
#              bench-i (Nomaflow uses one job and force: true).
#   runs/s     at window 8; only succeeded runs count (a run that did not
#              succeed is named on stderr and counted in failed=; one
#              that Dagu reported failed, then succeeded within a second,
#              counts as succeeded and in flapped=).
#   idle RSS   of the daemon (Dagu: `dagu start-all`, its web server and
#              scheduler in one process) 5 s after start with 1,000 jobs
#              loaded, half of them with a schedule that does not fire
#              during the run.
# Rounds alternate Nomaflow and Dagu; the table shows medians.  A PNG
# (gnuplot) of the latency distributions at window 8 is written too.
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/peers.sh
# Environment:
#   BUILD     configured build directory (default: the current directory)
#   RUNS      runs per round and window (default 300)
#   ROUNDS    rounds (default 3)
#   POLL_MS   Dagu status poll interval (default 10)
#   DAGU      the dagu binary (default: npm package @dagu-org/dagu-linux-x64
#             installed with `npm install --prefix $BUILD/bench-cache/dagu`)
#   PORT      Dagu's port on 127.0.0.1 (default 18611)
#   OUT       directory for peers.dat/peers.png (default $BUILD/bench)
#   MAKE      make program (default make; MAKE=: skips building)
#   KEEP=1    keep the temporary directory
# Needs: npm (unless DAGU is set), python3, gnuplot (scripts/deps.sh
# --bench installs it); fails loudly without them.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
RUNS=${RUNS:-300}
ROUNDS=${ROUNDS:-3}
POLL_MS=${POLL_MS:-10}
PORT=${PORT:-18611}
OUT=${OUT:-$BUILD/bench}
MAKE=${MAKE:-make}
NJOBS=1000
TMP=
NPID=
GPID=

die() {
	echo "peers.sh: $*" >&2
	exit 1
}

stop() {
	# stop PID: SIGTERM, wait up to 30 s, then SIGKILL.
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || { kill -KILL "$1" 2>/dev/null; break; }
		sleep 0.1
	done
	wait "$1" 2>/dev/null || true
}

cleanup() {
	stop "$NPID"
	stop "$GPID"
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "peers.sh: kept $TMP" >&2
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for t in python3 gnuplot curl; do
	command -v $t >/dev/null 2>&1 || die "$t is missing (scripts/deps.sh" \
	    "--bench installs what the benchmarks need)"
done
[ -f "$BUILD/Makefile" ] || die "$BUILD is not a configured build directory"
$MAKE -s -C "$BUILD" nomaflowd nomaflow-worker bench/loadgen >&2 ||
    die "build failed in $BUILD"
LOADGEN=$BUILD/bench/loadgen
if [ -z "${DAGU:-}" ]; then
	command -v npm >/dev/null 2>&1 || die "npm is missing (or set DAGU)"
	CACHE=$BUILD/bench-cache/dagu
	if [ ! -d "$CACHE/node_modules/@dagu-org/dagu-linux-x64" ]; then
		npm install --silent --prefix "$CACHE" \
		    @dagu-org/dagu-linux-x64 >&2 ||
		    die "npm install @dagu-org/dagu-linux-x64 failed"
	fi
	DAGU=$(find "$CACHE/node_modules/@dagu-org/dagu-linux-x64" -type f \
	    -name dagu -perm -u+x | head -n 1)
	[ -n "$DAGU" ] || die "no dagu binary in $CACHE/node_modules/@dagu-org"
fi
[ -x "$DAGU" ] || die "$DAGU is not executable"
DAGU_VERSION=$("$DAGU" version 2>&1 | tail -n 1)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nfpeers.XXXXXX")
mkdir -p "$OUT"

# The hour of a schedule that does not fire during the run.
HOUR=$(( ($(date -u +%-H) + 12) % 24 ))

# ---------------------------------------------------------- configuration
nf_config() {
	# nf_config DIR NJOBS
	mkdir -p "$1/state" "$1/jobs.d"
	cat >"$1/nomaflow.toml" <<EOT
state_dir = "$1/state"
policies_dir = "$SRC/policies"
jobs_dir = "$1/jobs.d"
log_level = "warn"

[store]
path = "$1/state/nomaflow.db"
synchronous = "normal"

[control]
socket = "$1/nomaflow.sock"

[worker]
path = "$BUILD/nomaflow-worker"
max_concurrent = 8
EOT
	[ "$(id -u)" != 0 ] || echo 'run_as = "root"' >>"$1/nomaflow.toml"
	awk -v n="$2" -v dir="$1/jobs.d" -v hour="$HOUR" 'BEGIN {
		for (i = 0; i < n; i++) {
			f = sprintf("%s/jobs-%04d.toml", dir, int(i / 100));
			id = sprintf("job-%04d", i);
			if (i == 0)
				id = "bench";
			printf("[[jobs]]\nid = \"%s\"\n", id) >> f;
			if (i % 2 == 1)
				printf("schedule = \"*/5 %s * * *\"\n", hour) >> f;
			printf("\n[[jobs.steps]]\nname = \"t\"\ntype = \"exec\"\n") >> f;
			printf("argv = [\"/bin/true\"]\n\n") >> f;
		}
	}'
}

dagu_config() {
	# dagu_config DIR NJOBS: bench-0..7 for the load, then job-NNNN.
	mkdir -p "$1/home" "$1/dags"
	awk -v n="$2" -v dir="$1/dags" -v hour="$HOUR" 'BEGIN {
		for (i = 0; i < n; i++) {
			name = sprintf("job-%04d", i);
			if (i < 8)
				name = sprintf("bench-%d", i);
			f = sprintf("%s/%s.yaml", dir, name);
			if (i % 2 == 1)
				printf("schedule: \"*/5 %s * * *\"\n", hour) > f;
			printf("steps:\n  - name: t\n    command: /bin/true\n") >> f;
			close(f);
		}
	}'
}

nf_start() {
	"$BUILD/nomaflowd" -n -f "$1/nomaflow.toml" >"$1/check.log" 2>&1 || {
		cat "$1/check.log" >&2
		die "nomaflowd -n rejected $1/nomaflow.toml"
	}
	"$BUILD/nomaflowd" -f "$1/nomaflow.toml" 2>"$1/daemon.log" &
	NPID=$!
	i=0
	until [ -S "$1/nomaflow.sock" ]; do
		kill -0 "$NPID" 2>/dev/null || die "nomaflowd exited" \
		    "($(cat "$1/daemon.log"))"
		i=$((i + 1))
		[ $i -le 600 ] || die "no control socket after 60 s"
		sleep 0.1
	done
}

dagu_start() {
	# Its own HOME and DAGU_HOME: nothing of the user's is read or written.
	env HOME="$1/home" DAGU_HOME="$1/home" DAGU_DAGS_DIR="$1/dags" \
	    DAGU_HOST=127.0.0.1 DAGU_PORT="$PORT" "$DAGU" start-all \
	    >"$1/dagu.log" 2>&1 &
	GPID=$!
	i=0
	until curl -sf "http://127.0.0.1:$PORT/api/v2/dags/bench-0" \
	    >/dev/null 2>&1; do
		kill -0 "$GPID" 2>/dev/null || die "dagu exited" \
		    "($(tail -n 5 "$1/dagu.log"))"
		i=$((i + 1))
		[ $i -le 600 ] || die "dagu: no answer on port $PORT after 60 s"
		sleep 0.1
	done
}

# VmRSS in KiB of PID and every descendant.
rss_tree() {
	t=0
	for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
		v=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$p/status" \
		    2>/dev/null || echo 0)
		t=$((t + ${v:-0}))
	done
	echo $t
}

# dagu_load N WINDOW LATFILE: the key=value line of bench/loadgen.
dagu_load() {
	python3 - "$PORT" "$1" "$2" "$POLL_MS" "$3" <<'EOPY'
import http.client, json, sys, threading, time
port, total, window, poll, latfile = (int(sys.argv[1]), int(sys.argv[2]),
    int(sys.argv[3]), int(sys.argv[4]) / 1000.0, sys.argv[5])
lock = threading.Lock()
state = {"started": 0, "lat": [], "failed": 0, "flapped": 0, "err": None}
FINAL = {2: "failed", 3: "aborted", 4: "succeeded", 6: "partial"}

def seen_final(st, t0):
    # Dagu 1.30 at times reports a run that has just ended as failed, and
    # as succeeded a moment later (its own log says succeeded): a final
    # status other than success counts once it has held for a second.
    k = ("first", t0)
    now = time.monotonic()
    with lock:
        first = state.setdefault("first", {}).setdefault(k, now)
        if now - first < 1.0:
            return False
        state["first"].pop(k)
    return True

def slot(i):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    name = "bench-%d" % i
    while True:
        with lock:
            if state["started"] >= total or state["err"]:
                return
            state["started"] += 1
        t0 = time.monotonic()
        c.request("POST", "/api/v2/dags/%s/start" % name, "{}",
                  {"Content-Type": "application/json"})
        r = c.getresponse()
        body = r.read()
        if r.status != 200:
            state["err"] = "start %s: HTTP %d %s" % (name, r.status, body[:200])
            return
        rid = json.loads(body)["dagRunId"]
        while True:
            if time.monotonic() - t0 > 60:
                state["err"] = "run %s %s: no end in 60 s" % (name, rid)
                return
            c.request("GET", "/api/v2/dag-runs/%s/%s" % (name, rid))
            r = c.getresponse()
            body = r.read()
            if r.status == 200:
                st = json.loads(body)["dagRunDetails"].get("status")
                if st == 4 or (st in FINAL and seen_final(st, t0)):
                    break
            time.sleep(poll)
        t1 = time.monotonic()
        with lock:
            if st == 4 and ("first", t0) in state.get("first", {}):
                state["first"].pop(("first", t0))
                state["flapped"] += 1
            if st == 4:
                state["lat"].append((t1 - t0) * 1000.0)
            else:
                state["failed"] += 1
                sys.stderr.write("dagu load: run %s %s ended %s\n" %
                                 (name, rid, FINAL[st]))

begin = time.monotonic()
ts = [threading.Thread(target=slot, args=(i,)) for i in range(window)]
for t in ts:
    t.start()
for t in ts:
    t.join()
secs = time.monotonic() - begin
if state["err"]:
    sys.exit("dagu load: " + state["err"])
lat = sorted(state["lat"])
n = len(lat)
with open(latfile, "a") as f:
    for v in lat:
        f.write("%.3f\n" % v)
print("runs=%d seconds=%.3f runs_per_s=%.1f p50_ms=%.3f p99_ms=%.3f "
      "max_ms=%.3f failed=%d flapped=%d" % (n, secs, n / secs,
      lat[(n - 1) // 2], lat[int((n - 1) * 0.99)], lat[-1], state["failed"],
      state["flapped"]))
# A run Dagu itself failed is a result (failed=N, named above), not an
# error of the benchmark.
EOPY
}

kv() {
	echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
col() {
	while read -r line; do kv "$1" "$line"; done <"$TMP/$2" | median
}

echo "# peers.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPU, load" \
    "average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# Dagu $DAGU_VERSION ($DAGU); runs=$RUNS rounds=$ROUNDS poll=${POLL_MS}ms"

# ------------------------------------------------ 1. idle RSS, 1000 jobs
nf_config "$TMP/nf1k" $NJOBS
nf_start "$TMP/nf1k"
sleep 5
NF_RSS=$(rss_tree "$NPID")
stop "$NPID"
NPID=
dagu_config "$TMP/dg1k" $NJOBS
dagu_start "$TMP/dg1k"
sleep 5
DG_RSS=$(rss_tree "$GPID")
stop "$GPID"
GPID=
echo "# idle VmRSS with $NJOBS jobs: nomaflowd $NF_RSS KiB, dagu $DG_RSS KiB"

# -------------------------------------------- 2. latency and throughput
# Both daemons stay up; each loads while the other idles.
nf_config "$TMP/nf" 1
dagu_config "$TMP/dg" 8
nf_start "$TMP/nf"
dagu_start "$TMP/dg"
"$LOADGEN" -s "$TMP/nf/nomaflow.sock" -n 50 -w 8 >/dev/null ||
    die "nomaflowd warm-up failed"
dagu_load 16 8 /dev/null >/dev/null ||
    die "dagu warm-up failed ($TMP/dg/dagu.log)"
: >"$TMP/nf.lat"
: >"$TMP/dg.lat"
r=1
while [ $r -le "$ROUNDS" ]; do
	for w in 1 8; do
		l=$("$LOADGEN" -s "$TMP/nf/nomaflow.sock" -n "$RUNS" -w $w) ||
		    die "nomaflowd round $r failed"
		echo "# round $r w$w nomaflowd: $l"
		echo "$l" >>"$TMP/nf.w$w"
		lf=/dev/null
		[ $w = 1 ] || lf=$TMP/dg.lat
		l=$(dagu_load "$RUNS" $w "$lf") || die "dagu round $r failed"
		echo "# round $r w$w dagu: $l"
		echo "$l" >>"$TMP/dg.w$w"
	done
	r=$((r + 1))
done
# Latencies of nomaflowd at window 8, one per run, for the plot.
"$LOADGEN" -s "$TMP/nf/nomaflow.sock" -n "$RUNS" -w 8 -L "$TMP/nf.lat" \
    >/dev/null 2>&1 || : >"$TMP/nf.lat"

echo
printf '| %-34s | %12s | %12s | %7s |\n' measure nomaflowd "Dagu" ratio
printf '|%s|%s|%s|%s|\n' ------------------------------------ \
    -------------- -------------- ---------
row() {
	printf '| %-34s | %12s | %12s | %7s |\n' "$1" "$2" "$3" \
	    "$(awk -v a="$2" -v b="$3" 'BEGIN { if (a > 0)
	    printf("%.2f", b / a); else print "-" }')"
}
row "latency p50 ms, 1 in flight" "$(col p50_ms nf.w1)" "$(col p50_ms dg.w1)"
row "latency p99 ms, 1 in flight" "$(col p99_ms nf.w1)" "$(col p99_ms dg.w1)"
row "latency p50 ms, 8 in flight" "$(col p50_ms nf.w8)" "$(col p50_ms dg.w8)"
row "latency p99 ms, 8 in flight" "$(col p99_ms nf.w8)" "$(col p99_ms dg.w8)"
row "runs/s, 8 in flight" "$(col runs_per_s nf.w8)" "$(col runs_per_s dg.w8)"
row "runs/s, 1 in flight" "$(col runs_per_s nf.w1)" "$(col runs_per_s dg.w1)"
row "idle RSS KiB, $NJOBS jobs" "$NF_RSS" "$DG_RSS"
echo
echo "# ratio: Dagu / nomaflowd; medians over $ROUNDS rounds"

# ------------------------------------------------------------------ plot
if [ -s "$TMP/nf.lat" ] && [ -s "$TMP/dg.lat" ]; then
	sort -g "$TMP/nf.lat" | awk '{ print NR, $1 }' >"$TMP/nf.cdf"
	sort -g "$TMP/dg.lat" | awk '{ print NR, $1 }' >"$TMP/dg.cdf"
	nn=$(wc -l <"$TMP/nf.cdf")
	nd=$(wc -l <"$TMP/dg.cdf")
	gnuplot <<EOGP || die "gnuplot failed"
set terminal pngcairo size 800,480 noenhanced
set output "$OUT/peers.png"
set title "Trigger to end of a one-step /bin/true job, 8 in flight ($(date -u +%Y-%m-%d))"
set xlabel "latency (ms, log scale)"
set ylabel "fraction of runs"
set logscale x
set key bottom right
set grid
plot "$TMP/nf.cdf" using 2:(\$1/$nn) with lines lw 2 title "nomaflowd", \
     "$TMP/dg.cdf" using 2:(\$1/$nd) with lines lw 2 title "Dagu $DAGU_VERSION"
EOGP
	echo "# plot: $OUT/peers.png"
fi
