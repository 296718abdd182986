#!/bin/sh
# bench/sched.sh: the scheduler at scale (see bench/RESULTS.md, "Scheduling").
#
#   1. Idle: nomaflowd with NJOBS (10,000) scheduled jobs none of which is
#      due during the window, against a baseline daemon with one manual
#      job, over IDLE seconds: wakeups (voluntary context switches from
#      /proc/PID/status, and epoll_wait/timer syscalls from strace -c when
#      strace is installed; goal 0: no polling), VmRSS, and start time
#      (until nfctl status answers).
#   2. Burst: the same NJOBS jobs of which NDUE (1,000) have a 6-field
#      schedule due in the same second T: dispatch lateness (T -> run row
#      queued: runs.created_at, ms) and start lateness (T -> worker
#      running: runs.started_at), p50/p99/max, from the store.  Each run is
#      one exec step running /bin/true with worker.max_concurrent = WORKERS.
#   3. With HISTORY=N (200000): the burst's store first gets N finished
#      runs of another job (each with an attempt and two log lines) and
#      [retention] runs = 1000, and the slot is 11 s after the start, so
#      that the daemon's first pass (10 s after its start) deletes that
#      history in batches while the slot's runs are dispatched; `nfctl
#      prune` joins that pass 1 s before the slot and reports it.  Compare
#      the lateness with HISTORY=0.  SEED_DB=FILE instead starts the
#      burst on a copy of that store (bench/scale.sh makes one with
#      millions of runs), without retention.
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/sched.sh
# Environment: BUILD (default .), NJOBS (10000), NDUE (1000), IDLE (20;
#   0 skips the idle part), WORKERS (64), KEEP=1 keeps the temporary
#   directory, PERF=FILE records the daemon with `perf record -g` from
#   its start until every row of the slot exists (perf slows it: the
#   lateness of such a run is not a figure).  Needs sqlite3.
# The daemon runs at the configured log_level (info), as in production:
# -d (debug) would add a log line per slot armed.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
NJOBS=${NJOBS:-10000}
NDUE=${NDUE:-1000}
IDLE=${IDLE:-20}
HISTORY=${HISTORY:-0}
WORKERS=${WORKERS:-64}
DAEMON=$BUILD/nomaflowd
NFCTL=$BUILD/nfctl
WORKER=$BUILD/nomaflow-worker
DPID=
TMP=

die() {
	echo "sched.sh: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null || true
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "sched.sh: kept $TMP" >&2
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT INT TERM

[ -x "$DAEMON" ] || die "no $DAEMON (configure and make first; BUILD=...)"
command -v sqlite3 >/dev/null || die "needs the sqlite3 command"
TMP=$(mktemp -d /tmp/nfbench-sched.XXXXXX)

# conf DIR: a configuration directory.
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
EOT
}

# jobs FILE N DUE_EXPR NDUE: N jobs; the first NDUE fire at DUE_EXPR, the
# others on 1 January only (never during the run).
jobs() {
	awk -v n="$2" -v due="$3" -v ndue="$4" 'BEGIN {
		for (i = 0; i < n; i++) {
			printf "[[jobs]]\nid = \"j%05d\"\n", i
			if (i < ndue)
				printf "schedule = \"%s\"\n", due
			else
				printf "schedule = \"%d %d 1 1 *\"\n", i % 60,
				    int(i / 60) % 24
			printf "[[jobs.steps]]\nname = \"s\"\ntype = \"exec\"\n"
			printf "argv = [\"/bin/true\"]\n\n"
		}
	}' > "$1"
}

start() {
	"$DAEMON" -f "$1/nomaflow.toml" > "$1/daemon.log" 2>&1 &
	DPID=$!
	t0=$(date +%s%N)
	i=0
	until "$NFCTL" -s "$1/state/nomaflowd.sock" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 1200 ] || die "daemon in $1 did not start"
		kill -0 "$DPID" 2>/dev/null || die "daemon in $1 exited: \
$(tail -3 "$1/daemon.log")"
		sleep 0.05
	done
	START_MS=$((($(date +%s%N) - t0) / 1000000))
}

stop() {
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DPID/status"; }

# idle DIR LABEL: wakeups and RSS over IDLE seconds.
idle() {
	sleep 2
	v0=$(field voluntary_ctxt_switches)
	n0=$(field nonvoluntary_ctxt_switches)
	if command -v strace >/dev/null 2>&1; then
		timeout -s INT "$IDLE" strace -c -f -p "$DPID" -o "$1/strace" \
		    2>"$1/strace.err" || true
	else
		sleep "$IDLE"
	fi
	v1=$(field voluntary_ctxt_switches)
	n1=$(field nonvoluntary_ctxt_switches)
	rss=$(field VmRSS)
	sys="-"
	# strace -c writes nothing at all when the process made no syscall.
	if grep -q attached "$1/strace.err" 2>/dev/null; then
		sys=$(awk '$NF ~ /^(epoll_wait|epoll_pwait|poll|select|nanosleep|clock_nanosleep|timerfd_settime)$/ { n += $4 } END { print n + 0 }' "$1/strace")
	fi
	printf '%-28s start %6d ms  VmRSS %7d kB  wakeups in %d s: %d voluntary, %d involuntary; wait syscalls (strace): %s\n' \
	    "$2" "$START_MS" "$rss" "$IDLE" $((v1 - v0)) $((n1 - n0)) "$sys"
}

# pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE.
pct() {
	sort -n "$1" | awk -v p="$2" '{ a[NR] = $1 } END {
		if (NR == 0) { print "-"; exit }
		r = int((p * NR + 99) / 100); if (r < 1) r = 1
		print a[r] }'
}

echo "nomaflow scheduling benchmark: $NJOBS jobs, $NDUE due in one second," \
    "$WORKERS workers, $(nproc) CPUs, $(date -u +%Y-%m-%dT%H:%MZ)"

# 1. Idle.
if [ "$IDLE" -gt 0 ]; then
conf "$TMP/base"
jobs "$TMP/base/jobs.d/jobs.toml" 1 "0 0 1 1 *" 0
sed -i '/^schedule/d' "$TMP/base/jobs.d/jobs.toml"
start "$TMP/base"
idle "$TMP/base" "baseline (1 manual job)"
stop
conf "$TMP/idle"
jobs "$TMP/idle/jobs.d/jobs.toml" "$NJOBS" "0 0 1 1 *" 0
start "$TMP/idle"
idle "$TMP/idle" "$NJOBS scheduled jobs"
stop
fi

# 2. Burst: T far enough ahead for the start and a quiet moment.
conf "$TMP/burst"
DB=$TMP/burst/state/nomaflow.db
if [ "$HISTORY" -gt 0 ]; then
	printf '\n[retention]\nruns = 1000\n' >> "$TMP/burst/nomaflow.toml"
	start "$TMP/burst"	# creates the store
	stop
	t0=$(date +%s%N)
	sqlite3 "$DB" "
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $HISTORY - 1)
INSERT INTO runs (job_id, state, \"trigger\", triggered_by, created_at,
    started_at, finished_at)
SELECT 'history', 'succeeded', 'manual', 'user:bench',
    1700000000000 + i * 1000, 1700000000000 + i * 1000,
    1700000000000 + i * 1000 + 10 FROM n;
INSERT INTO attempts (run_id, step_idx, step, type, attempt, state)
SELECT id, 0, 's', 'exec', 1, 'succeeded' FROM runs;
INSERT INTO logs (run_id, ts, stream, level, line)
SELECT id, created_at, 'stdout', 'info', 'first line of run ' || id FROM runs;
INSERT INTO logs (run_id, ts, stream, level, line)
SELECT id, created_at, 'stdout', 'info', 'second line of run ' || id FROM runs;"
	echo "history: $HISTORY runs seeded in $((($(date +%s%N) - t0) / 1000000)) ms; [retention] runs = 1000"
fi
if [ -n "${SEED_DB:-}" ]; then
	start "$TMP/burst"	# creates the state directory
	stop
	rm -f "$DB-wal" "$DB-shm"
	cp "$SEED_DB" "$DB"
	echo "history: the store is a copy of $SEED_DB ($(stat -c %s "$DB") bytes)"
fi
T=$(($(date +%s) + 30))
[ "$HISTORY" -gt 0 ] && T=$(($(date +%s) + 11))
due=$(date -u -d "@$T" '+%-S %-M %-H %-d %-m *')
jobs "$TMP/burst/jobs.d/jobs.toml" "$NJOBS" "$due" "$NDUE"
start "$TMP/burst"
rss0=$(field VmRSS)
now=$(date +%s)
[ "$now" -lt "$T" ] || die "started too late for the slot (start $START_MS ms)"
cpu() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; }
# perf takes a while to attach: start it now, the daemon is idle until T.
PERFPID=
if [ -n "${PERF:-}" ]; then
	perf record -q -g --no-inherit -F 20000 -o "$PERF" -p "$DPID" 2>"$TMP/perf.err" &
	PERFPID=$!
fi
[ "$((T - now))" -gt 1 ] && sleep $((T - now - 1))
cpu0=$(cpu)
PRUNEPID=
if [ "$HISTORY" -gt 0 ]; then
	( p0=$(date +%s%N)
	  "$NFCTL" -s "$TMP/burst/state/nomaflowd.sock" prune > "$TMP/prune.out" 2>&1
	  echo "$(( ($(date +%s%N) - p0) / 1000000 ))" > "$TMP/prune.ms" ) &
	PRUNEPID=$!
fi
# The daemon's CPU time until every row of the slot exists (clock ticks).
i=0
until [ "$(sqlite3 "$DB" "SELECT count(*) FROM runs WHERE scheduled_for = $T" 2>/dev/null || echo 0)" -ge "$NDUE" ]; do
	i=$((i + 1))
	[ "$i" -lt 2000 ] || die "the rows of slot $T never all appeared"
	sleep 0.05
done
cpu1=$(cpu)
if [ -n "$PERFPID" ]; then
	kill -INT "$PERFPID" 2>/dev/null || true
	wait "$PERFPID" 2>/dev/null || true
fi
i=0
while :; do
	done_n=$(sqlite3 "$DB" "SELECT count(*) FROM runs WHERE scheduled_for = $T AND state NOT IN ('queued', 'running')")
	[ "$done_n" -ge "$NDUE" ] && break
	i=$((i + 1))
	[ "$i" -lt 600 ] || die "only $done_n of $NDUE runs finished"
	sleep 0.5
done
rss1=$(field VmRSS)
hwm=$(field VmHWM)
if [ -n "$PRUNEPID" ]; then
	wait "$PRUNEPID" || true
	echo "prune during the burst: $(cat "$TMP/prune.out") in $(cat "$TMP/prune.ms") ms (nfctl prune, from 1 s before the slot)"
	grep 'retention: pruned' "$TMP/burst/daemon.log" || true
fi
stop
sqlite3 "$DB" "SELECT created_at - $T * 1000 FROM runs WHERE scheduled_for = $T" > "$TMP/disp"
sqlite3 "$DB" "SELECT started_at - $T * 1000 FROM runs WHERE scheduled_for = $T AND started_at IS NOT NULL" > "$TMP/start"
sqlite3 "$DB" "SELECT state, count(*) FROM runs WHERE scheduled_for = $T GROUP BY state" | tr '\n' ' ' > "$TMP/states"
printf '%-28s start %6d ms  VmRSS %7d kB before, %d kB after (HWM %d kB)\n' \
    "burst ($NJOBS jobs)" "$START_MS" "$rss0" "$rss1" "$hwm"
printf 'runs of slot %s: %s (rows %d)\n' "$(date -u -d "@$T" +%H:%M:%S)" \
    "$(cat "$TMP/states")" "$(wc -l < "$TMP/disp")"
printf 'daemon CPU from 1 s before the slot until all %d rows exist: %d ms (%d ticks of %d Hz)\n' \
    "$NDUE" $(((cpu1 - cpu0) * 1000 / $(getconf CLK_TCK))) $((cpu1 - cpu0)) "$(getconf CLK_TCK)"
printf 'dispatch lateness (slot -> run row queued): min %s ms  p50 %s ms  p99 %s ms  max %s ms\n' "$(pct "$TMP/disp" 0)" \
    "$(pct "$TMP/disp" 50)" "$(pct "$TMP/disp" 99)" "$(pct "$TMP/disp" 100)"
printf 'start lateness (slot -> worker running):    p50 %s ms  p99 %s ms  max %s ms\n' \
    "$(pct "$TMP/start" 50)" "$(pct "$TMP/start" 99)" "$(pct "$TMP/start" 100)"
