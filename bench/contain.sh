#!/bin/sh
# bench/contain.sh: one-step exec runs against the run baseline, and what
# containment costs (see bench/RESULTS.md for figures).
#
# Measures, in alternated rounds on the same machine (shared and noisy:
# compare the ratios, which are medians of per-round ratios):
#   1. runs/s and latency of nomaflowd running a one-step exec job
#      (/bin/true) kept W in flight by bench/loadgen, against bench/runbase,
#      which does the same process and store work without nomaflowd: spawn
#      the static sandboxed stub (bench/runbase-stub: the compiled "exec"
#      policy installed with a listener handed back over a socketpair,
#      then execve /bin/true), wait, one SQLite row (WAL, synchronous =
#      normal).  W = 1 and W = 8.
#   2. containment on and off, each a daemon of its own, all started at
#      once and loaded in turn within each round:
#        root   [worker] run_as = "root" (capabilities dropped, no run_as
#               switch): the lightest the current tree can run
#        user   [worker] run_as = "nobody": setgroups/setresgid/setresuid
#        iso    run_as = "root" and the job's isolation = ["net", "mount",
#               "pid"]
#        pre    PRE_BUILD (optional): a configured build of a tree before
#               containment (no subreaper sweep, no deny listener, no
#               capability drop), run with the same configuration minus
#               run_as, which it does not know
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/contain.sh
# Environment:
#   BUILD      configured build directory (default: the current directory)
#   PRE_BUILD  configured build of the tree before containment (optional;
#              its nomaflowd, nomaflow-worker and bench/loadgen are built)
#   PRE_SRC    its source tree (policies); default: PRE_BUILD's srcdir
#   RUNS       runs per round and window (default 500)
#   ROUNDS     rounds (default 3)
#   VARIANTS   which daemons (default "root user iso", plus "pre" with
#              PRE_BUILD)
#   MAKE       make program (default make; MAKE=: skips building)
#   KEEP=1     keep the temporary directory
# Must run as root (run_as "nobody" needs it); fails loudly otherwise.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${BUILD:-.}" && pwd)
RUNS=${RUNS:-500}
ROUNDS=${ROUNDS:-3}
MAKE=${MAKE:-make}
PRE_BUILD=${PRE_BUILD:-}
VARIANTS=${VARIANTS:-root user iso${PRE_BUILD:+ pre}}
TMP=
PIDS=

die() {
	echo "contain.sh: $*" >&2
	exit 1
}

cleanup() {
	for p in $PIDS; do
		kill -TERM "$p" 2>/dev/null || true
	done
	for p in $PIDS; do
		wait "$p" 2>/dev/null || true
	done
	if [ -n "$TMP" ] && [ -d "$TMP" ]; then
		if [ "${KEEP:-0}" = 1 ]; then
			echo "contain.sh: kept $TMP" >&2
		else
			rm -rf "$TMP"
		fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

[ "$(id -u)" = 0 ] || die "must run as root (run_as = \"nobody\")"
id nobody >/dev/null 2>&1 || die "no user nobody on this system"
[ -f "$BUILD/Makefile" ] || die "$BUILD is not a configured build directory"
$MAKE -s -C "$BUILD" nomaflowd nomaflow-worker bench/loadgen bench/runbase \
    bench/runbase-stub >&2 || die "build failed in $BUILD"
if [ -n "$PRE_BUILD" ]; then
	PRE_BUILD=$(cd "$PRE_BUILD" && pwd)
	$MAKE -s -C "$PRE_BUILD" nomaflowd nomaflow-worker bench/loadgen >&2 ||
	    die "build failed in $PRE_BUILD"
	PRE_SRC=${PRE_SRC:-$(sed -n 's/^abs_top_srcdir = //p' \
	    "$PRE_BUILD/Makefile")}
	[ -d "$PRE_SRC/policies" ] || die "no policies in PRE_SRC=$PRE_SRC"
fi
LOADGEN=$BUILD/bench/loadgen
for f in "$BUILD/nomaflowd" "$BUILD/nomaflow-worker" "$LOADGEN" \
    "$BUILD/bench/runbase" "$BUILD/bench/runbase-stub"; do
	[ -x "$f" ] || die "$f is missing"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/nfcontain.XXXXXX")
chmod 755 "$TMP"

# start VARIANT: a daemon of its own in $TMP/VARIANT.
start() {
	v=$1 d=$TMP/$1 b=$BUILD src=$SRC runas='run_as = "root"' iso=
	case $v in
	user)	runas='run_as = "nobody"' ;;
	iso)	iso='isolation = ["net", "mount", "pid"]' ;;
	pre)	b=$PRE_BUILD src=$PRE_SRC runas= ;;
	root)	;;
	*)	die "unknown variant $v" ;;
	esac
	mkdir -p "$d/state" "$d/jobs.d"
	cat >"$d/nomaflow.toml" <<EOT
state_dir = "$d/state"
policies_dir = "$src/policies"
jobs_dir = "$d/jobs.d"
log_level = "warn"

[store]
path = "$d/state/nomaflow.db"
synchronous = "normal"

[control]
socket = "$d/nomaflow.sock"

[worker]
path = "$b/nomaflow-worker"
max_concurrent = 8
$runas
EOT
	cat >"$d/jobs.d/bench.toml" <<EOT
[[jobs]]
id = "bench"
$iso

[[jobs.steps]]
name = "t"
type = "exec"
argv = ["/bin/true"]
EOT
	"$b/nomaflowd" -n -f "$d/nomaflow.toml" >"$d/check.log" 2>&1 || {
		cat "$d/check.log" >&2
		die "$v: nomaflowd -n rejected the configuration"
	}
	"$b/nomaflowd" -f "$d/nomaflow.toml" 2>"$d/daemon.log" &
	PIDS="$PIDS $!"
	echo $! >"$d/pid"
	i=0
	until [ -S "$d/nomaflow.sock" ]; do
		i=$((i + 1))
		[ $i -le 600 ] || die "$v: no control socket after 60 s" \
		    "($(cat "$d/daemon.log"))"
		sleep 0.1
	done
}

# ticks VARIANT: CPU of the daemon and its reaped children (the workers
# and the programs their steps ran), in clock ticks.
ticks() {
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$(cat "$TMP/$1/pid")/stat"
}
HZ=$(getconf CLK_TCK)

kv() {
	echo "$2" | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k { print $2 }'
}
median() {
	sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

echo "# contain.sh  $(date -u +%Y-%m-%dT%H:%M:%SZ)  $(nproc) CPU," \
    "load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# runs=$RUNS rounds=$ROUNDS variants: $VARIANTS"
for v in $VARIANTS; do
	start "$v"
	"$LOADGEN" -s "$TMP/$v/nomaflow.sock" -n 100 -w 8 >/dev/null ||
	    die "$v: warm-up failed ($TMP/$v/daemon.log)"
done
"$BUILD/bench/runbase" -p "$SRC/policies" -s "$BUILD/bench/runbase-stub" \
    -d "$TMP/runbase.db" -n 100 -w 8 >/dev/null || die "runbase warm-up failed"

r=1
while [ $r -le "$ROUNDS" ]; do
	for w in 1 8; do
		l=$("$BUILD/bench/runbase" -p "$SRC/policies" \
		    -s "$BUILD/bench/runbase-stub" -d "$TMP/runbase.db" \
		    -n "$RUNS" -w $w) || die "runbase round $r failed"
		echo "# round $r w$w baseline: $l"
		echo "$l" >>"$TMP/base.w$w"
		for v in $VARIANTS; do
			c0=$(ticks "$v")
			l=$("$LOADGEN" -s "$TMP/$v/nomaflow.sock" -n "$RUNS" \
			    -w $w) || die "$v round $r failed" \
			    "($TMP/$v/daemon.log)"
			l="$l cpu_ms_per_run=$(awk -v a="$c0" -v b="$(ticks \
			    "$v")" -v hz="$HZ" -v n="$RUNS" 'BEGIN {
			    printf("%.3f", (b - a) * 1000 / hz / n) }')"
			echo "# round $r w$w $v: $l"
			echo "$l" >>"$TMP/$v.w$w"
		done
	done
	r=$((r + 1))
done

# ratio A B KEY: median over the rounds of A's KEY / B's KEY.
ratio() {
	paste -d'|' "$TMP/$1" "$TMP/$2" | while IFS='|' read -r a b; do
		awk -v a="$(kv "$3" "$a")" -v b="$(kv "$3" "$b")" \
		    'BEGIN { if (b > 0) printf("%.3f\n", a / b) }'
	done | median
}
col() {
	while read -r line; do kv "$1" "$line"; done <"$TMP/$2" | median
}

echo
F='%-8s %2s %7s %8s %8s %8s %9s %9s %9s\n'
printf "$F" daemon W runs/s p50_ms p99_ms cpu_ms "/runbase" "/root" \
    "cpu/root"
for w in 1 8; do
	printf "$F" runbase $w "$(col runs_per_s base.w$w)" \
	    "$(col p50_ms base.w$w)" "$(col p99_ms base.w$w)" \
	    "$(col cpu_ms_per_run base.w$w)" 1 - -
	for v in $VARIANTS; do
		rr=- rc=-
		[ "$v" = root ] || case " $VARIANTS " in
		*" root "*)
			rr=$(ratio $v.w$w root.w$w runs_per_s)
			rc=$(ratio $v.w$w root.w$w cpu_ms_per_run)
			;;
		esac
		printf "$F" "$v" $w "$(col runs_per_s $v.w$w)" \
		    "$(col p50_ms $v.w$w)" "$(col p99_ms $v.w$w)" \
		    "$(col cpu_ms_per_run $v.w$w)" \
		    "$(ratio $v.w$w base.w$w runs_per_s)" "$rr" "$rc"
	done
done
echo
echo "# cpu_ms: CPU per run of the daemon with its workers and programs"
echo "# (runbase: itself and its stubs)"
echo "# /runbase: median of per-round runs/s ratios, goal >= 0.8"
echo "# /root: the variant's runs/s over root's, median of per-round" \
    "ratios; for pre, root keeps 1/x of pre's runs/s (goal: x <= 1.11," \
    "containment costs <= 10 %); cpu/root likewise for CPU per run"
for v in $VARIANTS; do
	n=$(grep -c . "$TMP/$v/daemon.log" || true)
	[ "$n" = 0 ] || echo "# $v: $n daemon log lines ($TMP/$v/daemon.log)"
done
