#!/bin/sh
# crash.sh: the randomised crash-injection harness.  A real nomaflowd under
# steady load (manual triggers, a cron schedule every second with catch-up,
# exec and sql steps, some failing and retrying) is killed with SIGKILL at
# random moments -- by the harness, or by an armed fault point
# (NOMAFLOW_FAULT, a build with --enable-fault-injection) -- and restarted,
# cycle after cycle.  After every restart it checks the invariants:
#
#   I1 every run a client was given an id for has exactly one row, of its job
#   I2 no run of an earlier life of the daemon is still queued or running
#      (each reached exactly one terminal state)
#   I3 no attempt is left pending/running under a finished run, and the
#      attempts cut short by a kill are recorded interrupted
#   I4 no cron slot has two rows
#   I5 no slot of the every-second schedule inside its catch-up window is
#      missing (the ledger has every second from the first to the last)
#   I6 no worker (nor a step's child) survives its supervisor
#   I7 PRAGMA integrity_check is ok
#   I8 every finished run's log ends with its final line
#
# Usage: crash.sh [--cycles N] [--seed S] [--keep]
# A failing cycle prints the seed and cycle to replay it.  Prints TAP (one
# test per cycle, plus the final checks) and exits non-zero on a violation.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
NOMAFLOWD=$top_builddir/nomaflowd
NFCTL=$top_builddir/nfctl
WORKER=$top_builddir/nomaflow-worker

CYCLES=200
SEED=$(date +%s)
KEEP=0
while [ $# -gt 0 ]; do
	case $1 in
	--cycles) CYCLES=$2; shift 2 ;;
	--seed) SEED=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	*) echo "usage: crash.sh [--cycles N] [--seed S] [--keep]" >&2; exit 64 ;;
	esac
done
for t in sqlite3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
if ! strings "$NOMAFLOWD" 2>/dev/null | grep -q NOMAFLOW_FAULT; then
	echo "1..0 # SKIP nomaflowd was built without --enable-fault-injection"
	exit 0
fi

D=$(mktemp -d /tmp/nomaflow-crash.XXXXXX)
DB=$D/state/nomaflow.db
SOCK=$D/state/nomaflowd.sock
MARK=nfcrash$$
DPID=
VIOL=0
N=0

cleanup() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	if [ "$VIOL" -eq 0 ] && [ "$KEEP" -eq 0 ]; then rm -rf "$D"; else
		echo "# kept $D"; fi
}
trap cleanup EXIT

# Seeded generator (an LCG in shell arithmetic): rnd N sets R in [0, N).
S=$SEED
rnd() { S=$(( (S * 1103515245 + 12345) % 2147483648 )); R=$(( (S / 65536) % $1 )); }

# Our own path to the worker: other tests running in parallel use the
# same binary, and I6 must only see this harness's workers.
mkdir -p "$D/jobs.d" "$D/bin"
for w in nomaflow-worker nomaflow-worker-sql nomaflow-worker-sqlite \
    nomaflow-worker-http; do
	ln -s "$top_builddir/$w" "$D/bin/$w"
done
WORKER=$D/bin/nomaflow-worker
cat > "$D/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$top_srcdir/policies"
jobs_dir = "jobs.d"
log_level = "info"
shutdown_grace_seconds = 1

[worker]
path = "$WORKER"
grace_seconds = 1
max_concurrent = 4

[pools.local]
driver = "sqlite"
path = "$D/data.db"
EOT
cat > "$D/jobs.d/load.toml" <<EOT
[[jobs]]
id = "tick"
schedule = "* * * * * *"
catchup = "all"
catchup_window = 3600
[[jobs.steps]]
name = "s"
type = "exec"
argv = ["/bin/true", "$MARK"]

[[jobs]]
id = "two"
[[jobs.steps]]
name = "a"
type = "exec"
argv = ["/bin/sh", "-c", "echo one; sleep 0.1", "$MARK"]
[[jobs.steps]]
name = "b"
type = "exec"
argv = ["/bin/sh", "-c", "echo two", "$MARK"]

[[jobs]]
id = "flaky"
retry = { attempts = 3, backoff = "fixed", base_seconds = 0.05 }
[[jobs.steps]]
name = "f"
type = "exec"
argv = ["/bin/sh", "-c", "echo try \$\$; [ \$((\$\$ % 2)) -eq 0 ]", "$MARK"]

[[jobs]]
id = "sql"
[[jobs.steps]]
name = "mk"
type = "sql_query"
pool = "local"
sql = "CREATE TABLE IF NOT EXISTS t (n INTEGER)"
[[jobs.steps]]
name = "ins"
type = "sql_query"
pool = "local"
sql = "INSERT INTO t VALUES (1)"

[[jobs]]
id = "slow"
[[jobs.steps]]
name = "nap"
type = "exec"
argv = ["/bin/sh", "-c", "sleep 0.4; echo woke", "$MARK"]
EOT

POINTS="after_run_insert after_result between_steps before_commit after_commit log_write reload catchup"
NPOINTS=8
JOBS="two flaky sql slow"

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
q() { sqlite3 -cmd '.timeout 2000' "$DB" "$@"; }
fail() { VIOL=$((VIOL + 1)); FAILS="$FAILS; $*"; }

start() {
	NOMAFLOW_FAULT=$1 "$NOMAFLOWD" -f "$D/nomaflow.toml" >> "$D/daemon.log" 2>&1 &
	DPID=$!
}

# Wait up to 15 s (loaded machines) for the control socket to answer; 1 if
# the daemon died.
wait_up() {
	_i=0
	while [ $_i -lt 300 ]; do
		kill -0 "$DPID" 2>/dev/null || return 1
		"$NFCTL" -s "$SOCK" status >/dev/null 2>&1 && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

killd() {
	kill -9 "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DPID=
}

# I6: within 2 s of the supervisor's death nothing of ours is left.
check_orphans() {
	_i=0
	while [ $_i -lt 40 ]; do
		pgrep -f "$MARK" >/dev/null || pgrep -f "^$WORKER" >/dev/null || return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	fail "I6 process survived its supervisor: $(pgrep -af "$MARK|^$WORKER" | head -3 | tr '\n' ' ')"
}

# Invariants that hold once a restarted daemon answers (recovery done);
# one sqlite3 process computes every count.
check_invariants() {
	_since=$1
	sqlite3 "$DB" > "$D/inv" 2>&1 <<EOS
.timeout 2000
.separator " "
CREATE TEMP TABLE g(id INTEGER, job TEXT);
.import $D/triggered g
-- I1: every id given to a client is one row of its job.
SELECT 'I1', count(*), 'triggered run(s) missing or of another job'
  FROM g LEFT JOIN runs r ON r.id = g.id
  WHERE r.id IS NULL OR r.job_id <> g.job;
SELECT 'I2', count(*), 'run(s) of an earlier life still active'
  FROM runs WHERE state IN ('queued','running') AND created_at < $_since;
SELECT 'I3', count(*), 'attempt(s) left active under finished runs'
  FROM attempts a JOIN runs r ON r.id = a.run_id
  WHERE r.state NOT IN ('queued','running')
  AND a.state IN ('pending','running');
SELECT 'I3', count(*), 'interrupted run(s) whose cut attempt is not interrupted'
  FROM runs r WHERE r.reason = 'interrupted'
  AND r.error LIKE '%supervisor stopped%'
  AND EXISTS (SELECT 1 FROM attempts a WHERE a.run_id = r.id
    AND a.id = (SELECT max(id) FROM attempts WHERE run_id = r.id)
    AND a.state = 'failed' AND a.reason IS NOT 'interrupted'
    AND a.finished_at = r.finished_at);
SELECT 'I4', count(*), 'slot(s) fired twice' FROM (SELECT 1 FROM runs
  WHERE scheduled_for IS NOT NULL GROUP BY job_id, scheduled_for
  HAVING count(*) > 1);
SELECT 'I5', coalesce(max(scheduled_for) - min(scheduled_for) + 1
  - count(*), 0), 'slot(s) of the every-second schedule lost'
  FROM runs WHERE job_id = 'tick';
SELECT 'I7', CASE WHEN (SELECT group_concat(integrity_check) FROM
  pragma_integrity_check) = 'ok' THEN 0 ELSE 1 END, 'integrity_check failed';
-- I8: the last line of every finished run is its final line.
SELECT 'I8', count(*), 'finished run(s) whose log does not end with the final line'
  FROM runs r WHERE r.state IN ('succeeded','failed','canceled')
  AND NOT EXISTS (SELECT 1 FROM logs l WHERE l.run_id = r.id
    AND l.seq = (SELECT max(seq) FROM logs WHERE run_id = r.id)
    AND l.stream = 'system'
    AND (l.line LIKE 'run ' || r.id || ' ' || r.state || '%'
      OR l.line LIKE 'run interrupted:%'));
EOS
	if [ "$(grep -c '^I[0-9] ' "$D/inv")" -ne 8 ]; then
		fail "sqlite3: $(tr '\n' ' ' < "$D/inv")"
		return
	fi
	while read -r _i _n _what; do
		[ "$_n" = 0 ] || fail "$_i $_n $_what"
	done < "$D/inv"
}

echo "# seed $SEED, $CYCLES cycles, in $D"
: > "$D/triggered"
start ""
wait_up || { echo "Bail out! nomaflowd does not start; see $D/daemon.log"; VIOL=1; exit 1; }
killed_by_fault=0
c=0
while [ $c -lt "$CYCLES" ]; do
	c=$((c + 1))
	FAILS=
	cseed=$S
	# Load: a few manual runs, maybe a reload.
	rnd 4; nrun=$((R + 1))
	i=0
	while [ $i -lt $nrun ]; do
		rnd 4; j=$(echo $JOBS | cut -d' ' -f$((R + 1)))
		out=$("$NFCTL" -s "$SOCK" --json run "$j" --force 2>/dev/null)
		id=$(printf '%s' "$out" | sed -n 's/.*"run_id": *\([0-9]*\).*/\1/p')
		[ -n "$id" ] && echo "$id $j" >> "$D/triggered"
		i=$((i + 1))
	done
	rnd 5; [ $R -eq 0 ] && kill -HUP "$DPID" 2>/dev/null
	rnd 300; sleep "0.$(printf '%03d' $R)"
	killd
	check_orphans
	# Restart, with a fault point armed in half of the cycles.
	rnd 2
	if [ $R -eq 0 ]; then
		rnd $NPOINTS; p=$(echo $POINTS | cut -d' ' -f$((R + 1)))
		rnd 6; fault="$p:kill:$((R + 1))"
	else
		fault=
	fi
	since=$(now_ms)
	start "$fault"
	if ! wait_up; then
		# The fault fired during start-up (catch-up, the first commit):
		# that is a crash too; start again without it.
		killd
		check_orphans
		killed_by_fault=$((killed_by_fault + 1))
		since=$(now_ms)
		start ""
		wait_up || fail "daemon does not restart"
	fi
	check_invariants "$since"
	N=$((N + 1))
	if [ -z "$FAILS" ]; then
		echo "ok $N - cycle $c${fault:+ ($fault)}"
	else
		echo "not ok $N - cycle $c${fault:+ ($fault)}: replay with --seed $SEED (cycle $c, state $cseed)$FAILS"
	fi
	# The fault may fire later, mid-load: the next cycle's kill is a no-op.
	if ! kill -0 "$DPID" 2>/dev/null; then
		killed_by_fault=$((killed_by_fault + 1))
		start ""
		wait_up || true
	fi
done

# Final: stop cleanly; everything triggered has ended.
FAILS=
kill -TERM "$DPID" 2>/dev/null
wait "$DPID" 2>/dev/null
DPID=
check_orphans
since=$(now_ms)
start ""
wait_up || fail "daemon does not restart"
check_invariants "$since"
_n=$(q "SELECT count(*) FROM runs WHERE state IN ('queued','running')
    AND job_id <> 'tick'")
[ "$_n" = 0 ] || fail "runs still active after a clean stop: $_n"
N=$((N + 1))
if [ -z "$FAILS" ]; then echo "ok $N - final checks after a clean stop"; else
	echo "not ok $N - final checks: replay with --seed $SEED$FAILS"; fi
runs=$(q "SELECT count(*) FROM runs")
intr=$(q "SELECT count(*) FROM attempts WHERE reason = 'interrupted'")
echo "# seed $SEED: $CYCLES cycles, $runs runs, $intr interrupted attempts," \
    "$killed_by_fault kills by fault points, $VIOL invariant violation(s)"
echo "1..$N"
[ "$VIOL" -eq 0 ]
