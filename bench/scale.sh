#!/bin/sh
# bench/scale.sh: the catalogue and the history at scale (see
# bench/RESULTS.md, "Scale").
#
#   1. Catalogue: for each N in JOBS (1 1000 10000 100000), nomaflowd on N
#      scheduled jobs (in files of 1,000 jobs; none due during the run):
#      start time until `nfctl status` answers, idle VmRSS one second after
#      that, `nfctl reload` time, and every syscall the daemon makes over
#      an idle window of IDLE seconds (strace -c -f; goal 0, no polling).
#   2. History: a store with RUNS (1,000,000) finished runs of HJOBS (100)
#      jobs, each with one attempt and LOGS (1) log lines, written straight
#      into the file with sqlite3 while no daemon runs (the daemon creates
#      the file and its schema first, so the rows go into the real schema
#      and indexes).  Then the daemon on it: start, RSS, the wall time of
#      `nfctl runs` with each filter combination, a page further back with
#      --before, and `nfctl run show`, each the median of REPS calls,
#      against the same calls on an empty store; the store size per run.
#   3. With SCHED=1: bench/sched.sh's burst (IDLE=0) on a copy of that
#      store, for the dispatch p99 with the big history in place; compare
#      it with a run of bench/sched.sh without it.
#
# Every figure is printed beside the baseline of the same run (1 job, empty
# store) and as a ratio, since the machine is shared and noisy.  With PLOT=
# FILE (default: none) it draws VmRSS and start time against the job count
# with gnuplot into FILE (PNG).
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/scale.sh
# Environment: BUILD (.), JOBS ("1 1000 10000 100000"), RUNS (1000000;
#   0 skips the history), HJOBS (100), LOGS (1), IDLE (5), REPS (5),
#   SCHED (0), PLOT, KEEP=1 keeps the temporary directory.  Needs sqlite3;
#   strace and gnuplot optional.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
JOBS=${JOBS:-1 1000 10000 100000}
RUNS=${RUNS:-1000000}
HJOBS=${HJOBS:-100}
LOGS=${LOGS:-1}
IDLE=${IDLE:-5}
REPS=${REPS:-5}
SCHED=${SCHED:-0}
PLOT=${PLOT:-}
DAEMON=$BUILD/nomaflowd
NFCTL=$BUILD/nfctl
WORKER=$BUILD/nomaflow-worker
DPID=
TMP=

die() {
	echo "scale.sh: $*" >&2
	exit 1
}

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null || true
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "scale.sh: kept $TMP" >&2
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT INT TERM

[ -x "$DAEMON" ] || die "no $DAEMON (configure and make first; BUILD=...)"
command -v sqlite3 >/dev/null || die "needs the sqlite3 command"
TMP=$(mktemp -d /tmp/nfbench-scale.XXXXXX)

now_ms() { echo $(($(date +%s%N) / 1000000)); }
now_us() { echo $(($(date +%s%N) / 1000)); }

# conf DIR: a configuration directory without jobs.
conf() {
	mkdir -p "$1/jobs.d"
	cat > "$1/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$SRC/policies"
jobs_dir = "jobs.d"
log_level = "info"

[worker]
path = "$WORKER"
max_concurrent = 8
EOT
}

# jobs DIR N PREFIX: N jobs in files of 1,000, each with a schedule on
# 1 January only (never during the run) and one exec step.
jobs() {
	awk -v n="$2" -v p="$3" -v dir="$1/jobs.d" 'BEGIN {
		for (i = 0; i < n; i++) {
			f = sprintf("%s/jobs-%03d.toml", dir, int(i / 1000))
			printf "[[jobs]]\nid = \"%s%06d\"\n", p, i > f
			printf "schedule = \"%d %d 1 1 *\"\n", i % 60,
			    int(i / 60) % 24 > f
			printf "[[jobs.steps]]\nname = \"s\"\ntype = \"exec\"\n" > f
			printf "argv = [\"/bin/true\"]\n\n" > f
		}
	}'
}

sock() { echo "$1/state/nomaflowd.sock"; }

start() {
	"$DAEMON" -f "$1/nomaflow.toml" > "$1/daemon.log" 2>&1 &
	DPID=$!
	t0=$(now_ms)
	i=0
	until "$NFCTL" -s "$(sock "$1")" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ "$i" -lt 6000 ] || die "daemon in $1 did not start"
		kill -0 "$DPID" 2>/dev/null || die "daemon in $1 exited: \
$(tail -3 "$1/daemon.log")"
		sleep 0.02
	done
	START_MS=$(($(now_ms) - t0))
}

stop() {
	kill -TERM "$DPID" 2>/dev/null || true
	wait "$DPID" 2>/dev/null || true
	DPID=
}

field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DPID/status"; }

# syscalls DIR: every syscall of the daemon over IDLE seconds ("-" without
# strace).  strace -c writes nothing at all when there was none.
syscalls() {
	if ! command -v strace >/dev/null 2>&1; then
		echo -
		return
	fi
	timeout -s INT "$IDLE" strace -c -f -p "$DPID" -o "$1/strace" \
	    2>"$1/strace.err" || true
	if ! grep -q attached "$1/strace.err"; then
		echo -
		return
	fi
	awk '$NF == "total" { n = $3 } END { print n + 0 }' "$1/strace"
}

# med CMD...: the median wall time of REPS runs of CMD, in µs.
med() {
	: > "$TMP/times"
	r=0
	while [ "$r" -lt "$REPS" ]; do
		t0=$(now_us)
		"$@" > "$TMP/out" 2>&1 || die "failed: $* ($(head -2 "$TMP/out"))"
		echo $(($(now_us) - t0)) >> "$TMP/times"
		r=$((r + 1))
	done
	sort -n "$TMP/times" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# row LABEL VALUE BASE UNIT: one row of the table.
row() {
	printf '| %s | %s %s | %s %s | %s |\n' "$1" "$2" "$4" "$3" "$4" \
	    "$(ratio "$2" "$3")" >> "$TMP/table"
}

echo "nomaflow scale benchmark: jobs $JOBS, history $RUNS runs of $HJOBS jobs," \
    "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u +%Y-%m-%dT%H:%MZ)"

# 1. Catalogue.
: > "$TMP/table"
: > "$TMP/plot"
B_START= B_RSS= B_RELOAD= B_SYS=
printf '| measure | value | baseline (1 job / empty store) | ratio |\n|---|---|---|---|\n' >> "$TMP/table"
for n in $JOBS; do
	d=$TMP/jobs$n
	conf "$d"
	jobs "$d" "$n" j
	start "$d"
	sleep 1
	rss=$(field VmRSS)
	t0=$(now_ms)
	"$NFCTL" -s "$(sock "$d")" reload > "$d/reload.out" 2>&1 ||
	    die "reload of $n jobs failed: $(cat "$d/reload.out")"
	reload=$(($(now_ms) - t0))
	sys=$(syscalls "$d")
	stop
	printf '%7d jobs: start %6d ms  VmRSS %8d kB (%s kB/job over 1 job)  reload %6d ms  syscalls in %d s idle: %s\n' \
	    "$n" "$START_MS" "$rss" \
	    "$( [ -n "$B_RSS" ] && [ "$n" -gt 1 ] && awk -v a="$rss" -v b="$B_RSS" -v n="$n" 'BEGIN { printf "%.2f", (a - b) / (n - 1) }' || echo -)" \
	    "$reload" "$IDLE" "$sys"
	echo "$n $rss $START_MS $reload" >> "$TMP/plot"
	if [ -z "$B_RSS" ]; then
		B_START=$START_MS B_RSS=$rss B_RELOAD=$reload B_SYS=$sys
	fi
	row "$n jobs: start until status answers" "$START_MS" "$B_START" ms
	row "$n jobs: idle VmRSS" "$rss" "$B_RSS" kB
	row "$n jobs: nfctl reload" "$reload" "$B_RELOAD" ms
	row "$n jobs: syscalls in $IDLE s idle" "$sys" "$B_SYS" ""
done

# 2. History.
if [ "$RUNS" -gt 0 ]; then
	# The empty store first: the baseline of every query.
	e=$TMP/empty
	conf "$e"
	jobs "$e" "$HJOBS" h
	h=$TMP/hist
	conf "$h"
	jobs "$h" "$HJOBS" h
	DB=$h/state/nomaflow.db
	start "$h"	# creates the store and its schema
	stop
	t0=$(now_ms)
	# One transaction per million runs; ids, created_at and each job's
	# scheduled_for ascend, as the daemon writes them.  States: 1 in 20
	# failed, 1 in 100 canceled, the rest succeeded.
	sqlite3 "$DB" "PRAGMA journal_mode = off; PRAGMA synchronous = off;
PRAGMA cache_size = -262144;" > /dev/null
	b=0
	while [ "$b" -lt "$RUNS" ]; do
		c=$((RUNS - b))
		[ "$c" -gt 1000000 ] && c=1000000
		sqlite3 "$DB" "PRAGMA synchronous = off; PRAGMA cache_size = -262144;
BEGIN;
WITH RECURSIVE n(i) AS (SELECT $b UNION ALL SELECT i + 1 FROM n WHERE i < $((b + c - 1)))
INSERT INTO runs (job_id, state, reason, \"trigger\", triggered_by,
    scheduled_for, created_at, started_at, finished_at, error)
SELECT printf('h%06d', i % $HJOBS),
    CASE WHEN i % 100 = 7 THEN 'canceled' WHEN i % 20 = 3 THEN 'failed'
        ELSE 'succeeded' END,
    CASE WHEN i % 20 = 3 THEN 'step s failed' END,
    'schedule', 'schedule', 1600000000 + i, 1600000000000 + i * 1000,
    1600000000000 + i * 1000 + 5, 1600000000000 + i * 1000 + 40,
    CASE WHEN i % 20 = 3 THEN 'exit status 1' END FROM n;
INSERT INTO attempts (run_id, step_idx, step, type, attempt, state,
    exit_code, started_at, finished_at)
SELECT id, 0, 's', 'exec', 1, CASE state WHEN 'canceled' THEN 'canceled'
    ELSE state END, CASE state WHEN 'failed' THEN 1 ELSE 0 END,
    started_at, finished_at FROM runs WHERE id > $b;
COMMIT;" || die "generating runs $b.. failed"
		l=0
		while [ "$l" -lt "$LOGS" ]; do
			sqlite3 "$DB" "PRAGMA synchronous = off;
INSERT INTO logs (run_id, attempt_id, ts, step, attempt, stream, level, line)
SELECT r.id, a.id, r.started_at + $l, 's', 1, 'stdout', 'info',
    'line $l of run ' || r.id FROM runs r JOIN attempts a ON a.run_id = r.id
    WHERE r.id > $b;" || die "generating logs failed"
			l=$((l + 1))
		done
		b=$((b + c))
	done
	sqlite3 "$DB" "PRAGMA journal_mode = wal;" > /dev/null
	gen=$(($(now_ms) - t0))
	size=$(stat -c %s "$DB")
	echo "history: $RUNS runs, $RUNS attempts, $((RUNS * LOGS)) log lines generated in $gen ms; store $size bytes, $((size / RUNS)) bytes per run"

	since=$(((1600000000000 + (RUNS - RUNS / 10) * 1000) / 1000))
	mid=$((RUNS / 2))
	for which in empty hist; do
		d=$TMP/$which
		start "$d"
		sleep 1
		rss=$(field VmRSS)
		s=$(sock "$d")
		eval "${which}_start=$START_MS ${which}_rss=$rss"
		eval "${which}_all=$(med "$NFCTL" -s "$s" runs --limit 50)"
		eval "${which}_job=$(med "$NFCTL" -s "$s" runs --job h000042 --limit 50)"
		eval "${which}_state=$(med "$NFCTL" -s "$s" runs --state failed --limit 50)"
		eval "${which}_since=$(med "$NFCTL" -s "$s" runs --since "$since" --limit 50)"
		eval "${which}_jobstate=$(med "$NFCTL" -s "$s" runs --job h000042 --state failed --limit 50)"
		eval "${which}_jss=$(med "$NFCTL" -s "$s" runs --job h000042 --state failed --since "$since" --limit 50)"
		eval "${which}_before=$(med "$NFCTL" -s "$s" runs --before "$mid" --limit 50)"
		eval "${which}_jbefore=$(med "$NFCTL" -s "$s" runs --job h000042 --before "$mid" --limit 50)"
		eval "${which}_sbefore=$(med "$NFCTL" -s "$s" runs --state failed --before "$mid" --limit 50)"
		if [ "$which" = hist ]; then
			eval "${which}_show=$(med "$NFCTL" -s "$s" run show "$mid")"
		else
			"$NFCTL" -s "$s" run h000000 > /dev/null
			sleep 1
			eval "${which}_show=$(med "$NFCTL" -s "$s" run show 1)"
		fi
		eval "${which}_status=$(med "$NFCTL" -s "$s" status)"
		stop
	done
	printf '\n| history of %d runs (%d jobs) | value | baseline (empty store) | ratio |\n|---|---|---|---|\n' \
	    "$RUNS" "$HJOBS" >> "$TMP/table"
	row "start until status answers" "$hist_start" "$empty_start" ms
	row "idle VmRSS" "$hist_rss" "$empty_rss" kB
	for q in status all job state since jobstate jss before jbefore \
	    sbefore show; do
		case $q in
		status) l="nfctl status" ;;
		all) l="nfctl runs --limit 50" ;;
		job) l="runs --job" ;;
		state) l="runs --state failed" ;;
		since) l="runs --since (newest 10%)" ;;
		jobstate) l="runs --job --state" ;;
		jss) l="runs --job --state --since" ;;
		before) l="runs --before (half-way)" ;;
		jbefore) l="runs --job --before" ;;
		sbefore) l="runs --state --before" ;;
		show) l="nfctl run show" ;;
		esac
		eval "v=\$hist_$q bv=\$empty_$q"
		row "$l (median of $REPS, wall)" "$v" "$bv" µs
	done
	printf '| store size per run (1 attempt, %d log lines) | %d bytes | - | - |\n' \
	    "$LOGS" $((size / RUNS)) >> "$TMP/table"

	# The statements the daemon runs for those lists (store.c), timed
	# inside sqlite3 on the big store, without the client's process and
	# socket round trip; and their plans (each a SEARCH of one index).
	printf '\n| statement on %d runs (as store.c builds it) | sqlite3 time (best of %d) | plan |\n|---|---|---|\n' \
	    "$RUNS" "$REPS" >> "$TMP/table"
	C="SELECT id, job_id, state, reason, \"trigger\", triggered_by, scheduled_for, created_at, started_at, finished_at, error, rows_affected, preset FROM runs"
	L="ORDER BY created_at DESC, id DESC LIMIT 50"
	K="ORDER BY id DESC LIMIT 50"
	sinc=$((since * 1000))
	for q in "$L" "WHERE job_id = 'h000042' $L" "WHERE state = 'failed' $L" \
	    "WHERE created_at >= $sinc $L" \
	    "WHERE job_id = 'h000042' AND state = 'failed' $L" \
	    "WHERE job_id = 'h000042' AND state = 'failed' AND created_at >= $sinc $L" \
	    "WHERE state = 'running' AND created_at >= $sinc $L" \
	    "WHERE id < $mid $K" "WHERE job_id = 'h000042' AND id < $mid $K" \
	    "WHERE state = 'failed' AND id < $mid $K" \
	    "WHERE job_id = 'h000042' AND state = 'failed' AND id < $mid $K"; do
		plan=$(sqlite3 "$DB" "EXPLAIN QUERY PLAN $C $q" | grep -v '^QUERY' | sed 's/^[|`-]*//' | tr '\n' ';')
		best=
		r=0
		while [ "$r" -lt "$REPS" ]; do
			t=$(printf '.timer on\n%s %s;\n' "$C" "$q" | sqlite3 "$DB" |
			    awk "/^Run Time/ { print \$4 * 1000 }")
			best=$(awk -v a="$t" -v b="$best" 'BEGIN { print (b == "" || a + 0 < b + 0) ? a : b }')
			r=$((r + 1))
		done
		printf '| `%s` | %s ms | %s |\n' "$(echo "$q" | sed "s/ $L//; s/ $K/ (by id)/; s/^$L$/(none)/")" "$best" "$plan" >> "$TMP/table"
	done
	t0=$(now_us)
	sqlite3 "$DB" "SELECT * FROM runs WHERE id = $mid; SELECT * FROM attempts WHERE run_id = $mid ORDER BY step_idx, attempt, id;" > /dev/null
	echo "run show's statements (sqlite3 process included): $(($(now_us) - t0)) µs" >> "$TMP/table"

	if [ "$SCHED" = 1 ]; then
		echo "bench/sched.sh burst with the history in place:"
		SEED_DB=$DB IDLE=0 BUILD=$BUILD "$SRC/bench/sched.sh" |
		    grep -E 'dispatch|history|burst'
	fi
fi

echo
cat "$TMP/table"

if [ -n "$PLOT" ] && command -v gnuplot >/dev/null 2>&1; then
	gnuplot <<EOT
set terminal pngcairo size 800,480
set output "$PLOT"
set logscale x
set xlabel "jobs"
set ylabel "idle VmRSS (MiB)"
set y2label "start until status answers (ms)"
set ytics nomirror
set y2tics
set key top left
set grid
set title "nomaflowd: memory and start time against the job count"
plot "$TMP/plot" using 1:(\$2/1024) with linespoints title "VmRSS (MiB)", \
     "$TMP/plot" using 1:3 axes x1y2 with linespoints title "start (ms)", \
     "$TMP/plot" using 1:4 axes x1y2 with linespoints title "reload (ms)"
EOT
	echo "plot: $PLOT"
fi
