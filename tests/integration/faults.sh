#!/bin/sh
# faults.sh: the worker fault matrix and the store faults, against a real
# nomaflowd.  Workers are misbehaving fakes (tests/integration/fakes/fake.c,
# pointed at with worker.path); the store is pushed into errors with a full
# filesystem, a lock held by another process and damaged files.  Each case
# checks the outcome of the step, the reason class, that the supervisor is
# alive and answering, and that its memory stays bounded.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/faults.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi

# Point worker.path at a fake.
use_fake() {
	printf 'path = "%s"\n' "$FAKES/fake-$1" > "$D/w"
	sed -i "/^\[worker\]/r $D/w" "$D/nomaflow.toml"
}

peak_rss_kb() { awk '/VmHWM/ {print $2}' "/proc/$DPID/status"; }

# The fake-scripted worker does what argv[0] of its step names.
scripted_case() {
	_mode=$1 _want=$2 _sig=$3
	new_env "m-$_mode"
	use_fake scripted
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    "argv = [\"$_mode\"]"
	start_daemon || { T_OK=0; return; }
	id=$(nfj run j | jq -r .run_id)
	check "$_mode: run ends" wait_run "$id" 20
	show=$(nfj run show "$id")
	check "$_mode: $_want" eq \
	    "$(echo "$show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "$_want"
	if [ -n "$_sig" ]; then
		check "$_mode: signal $_sig recorded" eq \
		    "$(echo "$show" | jq -r '.attempts[0].signal')" "$_sig"
	fi
	diag "$_mode: $(echo "$show" | jq -r '.attempts[0].error')"
	check "$_mode: daemon alive" daemon_alive
	check "$_mode: daemon answers" nf status
	rss=$(peak_rss_kb)
	check "$_mode: supervisor peak RSS under 64 MiB ($rss kB)" test "$rss" -lt 65536
	stop_daemon
}

# ---------------------------------------------------------------------------
t_signals() {
	begin "worker dies of SIGSEGV, SIGABRT, SIGKILL, SIGSYS: failed crash/sandbox"
	scripted_case segv "failed crash" 11
	scripted_case abort "failed crash" 6
	scripted_case kill "failed crash" 9
	scripted_case sigsys "failed sandbox" 31
	end
}

t_oom() {
	begin "worker exhausts its memory under RLIMIT_AS: failed crash (SIGABRT)"
	scripted_case oom "failed crash" 6
	end
}

t_protocol() {
	begin "exit without RESULT, RESULT then crash, garbage, a 4 GiB frame claim"
	for f in noresult crash-after-result garbage huge; do
		new_env "p-$f"
		use_fake "$f"
		job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
		start_daemon || { T_OK=0; continue; }
		id=$(nfj run j | jq -r .run_id)
		check "$f: run ends" wait_run "$id" 20
		show=$(nfj run show "$id")
		case $f in
		crash-after-result) want="failed crash" ;;
		*) want="failed protocol" ;;
		esac
		check "$f: $want" eq "$(echo "$show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "$want"
		check "$f: daemon alive" daemon_alive
		check "$f: daemon answers" nf status
		rss=$(peak_rss_kb)
		check "$f: supervisor peak RSS under 64 MiB ($rss kB)" test "$rss" -lt 65536
		stop_daemon
	done
	end
}

t_flood() {
	begin "a worker floods 200 MB of log lines: cap holds, others keep latency, RSS bounded"
	new_env flood
	use_fake scripted
	echo 'log_cap_bytes = 1048576' > "$D/cap"
	sed -i "/^shutdown_grace_seconds/r $D/cap" "$D/nomaflow.toml"
	# Debug logging would print a line per frame: keep the daemon at info.
	sed -i 's/^log_level = "debug"/log_level = "info"/' "$D/nomaflow.toml"
	job flood '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["flood", "200"]'
	job quick '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["grandchild"]'
	"$NOMAFLOWD" -f "$D/nomaflow.toml" >> "$D/daemon.log" 2>&1 &
	DPID=$!
	wait_for 5 nf status || { T_OK=0; end; return; }
	t0=$(date +%s)
	id=$(nfj run flood | jq -r .run_id)
	# While it floods, other runs start, finish and are answered.
	worst=0
	for i in 1 2 3 4 5; do
		a=$(date +%s%N)
		q=$(nfj run quick --force | jq -r .run_id)
		wait_run "$q" 20
		b=$(date +%s%N)
		ms=$(( (b - a) / 1000000 ))
		[ "$ms" -gt "$worst" ] && worst=$ms
	done
	check "flood run ends" wait_run "$id" 120
	t1=$(date +%s)
	show=$(nfj run show "$id")
	check "flood run succeeded" eq "$(echo "$show" | jq -r .state)" succeeded
	flooding=$(nfj run show "$id" | jq -r .finished_at)
	during=$(nfj runs --job quick | jq -r "[.[] | select(.finished_at < $flooding)] | length")
	check "other runs started and finished during the flood ($during of 5)" \
	    test "$during" -ge 3
	rss=$(peak_rss_kb)
	diag "flood: 200 MB in $((t1 - t0)) s; other runs' worst trigger-to-end ${worst} ms; supervisor peak RSS $rss kB"
	check "supervisor peak RSS under 64 MiB ($rss kB)" test "$rss" -lt 65536
	bytes=$(sqlite3 "$D/state/nomaflow.db" "SELECT coalesce(sum(length(line)),0) FROM logs WHERE run_id = $id AND stream = 'stdout'")
	check "stored output within the 1 MiB cap ($bytes bytes)" test "$bytes" -le 1048576
	check "truncation marked" contains "$(nf logs "$id" | tail -n 5)" "trunc"
	check "the log ends with the final line" contains "$(nf logs "$id" | tail -n 1)" "succeeded"
	check "daemon alive" daemon_alive
	end
}

t_noread() {
	begin "a worker that never reads its socket: the supervisor is not blocked"
	new_env noread
	use_fake noread
	# A 3 MiB parameter: STEP_START is larger than the socket buffer.
	big=$(head -c 3000000 /dev/zero | tr '\0' 'p')
	job j "params = { big = \"$big\" }" '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' 'timeout_seconds = 2' 'argv = ["/bin/true"]'
	unset big
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run j | jq -r .run_id)
	check "daemon answers while the worker does not read" nf status
	check "run ends" wait_run "$id" 20
	check "step timed out" eq "$(nfj run show "$id" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed timeout"
	check "daemon alive" daemon_alive
	rss=$(peak_rss_kb)
	check "supervisor peak RSS under 64 MiB ($rss kB)" test "$rss" -lt 65536
	end
}

t_silent() {
	begin "a worker silent before its hello: the step's timeout runs from spawn"
	new_env silent
	use_fake silent
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'timeout_seconds = 2' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	t0=$(date +%s%N)
	id=$(nfj run j | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	show=$(nfj run show "$id")
	check "step timed out, not a protocol error" eq \
	    "$(echo "$show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed timeout"
	check "the error says it never started" contains \
	    "$(echo "$show" | jq -r '.attempts[0].error')" "never started"
	# 2 s from spawn, well before the 10 s hello deadline.
	check "ended after about 2 s ($ms ms)" test "$ms" -ge 1900 -a "$ms" -lt 6000
	check "daemon alive" daemon_alive
	stop_daemon
	end
}

t_grandchild() {
	begin "a worker's grandchild outliving it is killed with its process group"
	new_env grandchild
	use_fake scripted
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["grandchild"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run j | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	check "step succeeded" eq "$(run_state "$id")" succeeded
	check "grandchild was started" contains "$(nf logs "$id")" "grandchild"
	check "no sleep 61 left behind" wait_for 3 eval '! pgrep -f "^sleep 61" >/dev/null'
	check "daemon alive" daemon_alive
	end
}

# ---------------------------------------------------------------------------
# Store faults.

t_store_full() {
	begin "disk full: new runs refused with a clear error, running step kept, recovery"
	new_env full
	if ! mkdir -p "$D/state" || ! mount -t tmpfs -o size=2m tmpfs "$D/state" 2>/dev/null; then
		echo "ok $((T_NUM + 1)) - $T_CUR # SKIP cannot mount a tmpfs (needs root)" >&3
		T_NUM=$((T_NUM + 1))
		return
	fi
	job a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "a"]'
	job long '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "sleep 2; echo done"]'
	start_daemon || { T_OK=0; umount "$D/state"; end; return; }
	check "a run works" nf run a --follow
	lid=$(nfj run long | jq -r .run_id)
	# Fill the filesystem, then make the daemon write.
	dd if=/dev/zero of="$D/state/filler" bs=64k 2>/dev/null
	for i in 1 2 3 4 5 6; do nf run a >/dev/null 2>&1; done
	check "status shows the store unhealthy" wait_for 5 sh -c \
	    "$NFCTL -s $SOCK --json status | jq -e '.store.ok == false'"
	err=$(nf run a 2>&1); rc=$?
	check "new runs refused (non-zero exit)" test "$rc" -ne 0
	check "the refusal says why" contains "$err" "history cannot be written"
	check "status names the error" contains "$(nf status 2>&1)" "full"
	check "daemon alive" daemon_alive
	check "the running step was not orphaned" eval 'pgrep -f "sleep 2" >/dev/null'
	rm -f "$D/state/filler"
	check "the store recovers by itself" wait_for 10 sh -c \
	    "$NFCTL -s $SOCK --json status | jq -e '.store.ok == true'"
	check "the long run ends" wait_run "$lid" 20
	check "its state is recorded succeeded" eq "$(run_state "$lid")" succeeded
	check "new runs work again" nf run a --follow
	stop_daemon
	check "every run recorded in a terminal state" eq "$(sqlite3 "$D/state/nomaflow.db" \
	    "SELECT count(*) FROM runs WHERE state NOT IN ('succeeded','failed','canceled','skipped')")" 0
	check "no write of the outage was lost" eval \
	    '! grep -q "no such row\|no such run\|FOREIGN KEY" "$D/daemon.log"'
	check "integrity_check ok" eq "$(sqlite3 "$D/state/nomaflow.db" 'PRAGMA integrity_check')" ok
	umount "$D/state"
	end
}

t_store_locked() {
	begin "database locked by another process: runs refused, recovery when released"
	new_env locked
	job a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "a"]'
	start_daemon || { T_OK=0; end; return; }
	check "a run works" nf run a --follow
	# Another writer holds the write lock for 3 s.
	(printf 'BEGIN IMMEDIATE;\nCREATE TABLE IF NOT EXISTS lockme(x);\n'; sleep 3; printf 'ROLLBACK;\n') |
	    sqlite3 "$D/state/nomaflow.db" &
	lpid=$!
	sleep 0.5
	nf run a >/dev/null 2>&1
	check "status shows the store unhealthy" wait_for 5 sh -c \
	    "$NFCTL -s $SOCK --json status | jq -e '.store.ok == false'"
	err=$(nf run a 2>&1); rc=$?
	check "new runs refused" test "$rc" -ne 0
	check "the refusal names the lock" contains "$err" "lock"
	wait "$lpid"
	check "the store recovers by itself" wait_for 10 sh -c \
	    "$NFCTL -s $SOCK --json status | jq -e '.store.ok == true'"
	check "new runs work again" nf run a --follow
	check "daemon alive" daemon_alive
	end
}

t_store_corrupt() {
	begin "a corrupt or foreign store file at start: clear error, refuse, untouched"
	new_env corrupt
	mkdir -p "$D/state"
	head -c 65536 /dev/urandom > "$D/state/nomaflow.db"
	sum=$(md5sum < "$D/state/nomaflow.db")
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "refuses to start" test "$rc" -ne 0
	check "says the file is not a store" contains "$out" "nomaflow.db"
	diag "random bytes: $(echo "$out" | tail -n 1)"
	check "file left untouched" eq "$(md5sum < "$D/state/nomaflow.db")" "$sum"
	rm -f "$D/state/nomaflow.db"*
	sqlite3 "$D/state/nomaflow.db" 'CREATE TABLE theirs(x); INSERT INTO theirs VALUES (1);'
	sum=$(md5sum < "$D/state/nomaflow.db")
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "refuses another application's database" test "$rc" -ne 0
	diag "foreign: $(echo "$out" | tail -n 1)"
	check "foreign file left untouched" eq "$(md5sum < "$D/state/nomaflow.db")" "$sum"
	# A real store whose pages were damaged.
	rm -f "$D/state/nomaflow.db"*
	job a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "a"]'
	start_daemon || { T_OK=0; end; return; }
	for i in 1 2 3; do nf run a --follow >/dev/null 2>&1; done
	stop_daemon
	sz=$(stat -c %s "$D/state/nomaflow.db")
	# Overwrite everything after the header page with garbage.
	dd if=/dev/urandom of="$D/state/nomaflow.db" bs=4096 seek=1 \
	    count=$((sz / 4096)) conv=notrunc 2>/dev/null
	sum=$(md5sum < "$D/state/nomaflow.db")
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "refuses a damaged store" test "$rc" -ne 0
	diag "damaged: $(echo "$out" | tail -n 1)"
	check "damaged file left untouched" eq "$(md5sum < "$D/state/nomaflow.db")" "$sum"
	end
}

ALL="t_signals t_oom t_protocol t_flood t_noread t_silent t_grandchild t_store_full t_store_locked t_store_corrupt"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
