#!/bin/sh
# cgroup.sh: each step attempt in a cgroup v2 of its own.  A step sees its
# per-attempt cgroup in /proc/self/cgroup and the directory is gone after
# the run; a setsid'd process that a worker leaves out of its process
# group, with no sweep (a fake worker), dies by cgroup.kill; a fork bomb
# stops at pids.max (when the pids controller is there); what a killed
# nomaflowd left is killed and removed at the next start; with cgroup2
# read-only (a mount namespace of the daemon's own) the daemon says so once
# and the worker's sweep still leaves no survivor.  Skips where the daemon
# finds no writable cgroup2.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/cgroup.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi

use_fake() {
	printf 'path = "%s"\n' "$FAKES/fake-$1" > "$D/w"
	sed -i "/^\[worker\]/r $D/w" "$D/nomaflow.toml"
}

# The steps' cgroup of the running daemon (from its log), or fail.
steps_cgroup() {
	BASE=$(sed -n 's/.*cgroups: each step attempt in a cgroup of its own under //p' \
	    "$D/daemon.log" | tail -n 1)
	[ -n "$BASE" ] && [ -d "$BASE" ]
}

# skip_unless_cgroups: after start_daemon; 1 (and a SKIP) without them.
skip_unless_cgroups() {
	steps_cgroup && return 0
	T_NUM=$((T_NUM + 1))
	why=$(sed -n 's/.*cgroups: not available (\(.*\)); .*/\1/p' \
	    "$D/daemon.log" | head -n 1)
	echo "ok $T_NUM - $T_CUR # SKIP no writable cgroup2: ${why:-see the daemon log}" >&3
	stop_daemon
	DPID=
	return 1
}

# Where cgroup2 is mounted (the steps read their pids.* there).
BASE_MNT=$(awk '{ for (i = 7; i <= NF; i++) if ($i == "-") {
	if ($(i + 1) == "cgroup2") print $5; break } }' /proc/self/mountinfo |
    head -n 1)

# Unique sleep lengths: only this test's processes match.
M="400.$$$(date +%N | cut -c1-6)"

t_own() {
	begin "a step runs in its attempt's own cgroup, removed after the run"
	new_env own
	job j '[[jobs.steps]]' 'name = "a"' 'type = "exec"' \
	    'argv = ["/bin/echo", "first"]' \
	    '[[jobs.steps]]' 'name = "b"' 'type = "exec"' \
	    'argv = ["/bin/cat", "/proc/self/cgroup"]'
	start_daemon || { T_OK=0; end; return; }
	skip_unless_cgroups || return
	id=$(nfj run j | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	check "run succeeded" eq "$(run_state "$id")" succeeded
	logs=$(nf logs "$id")
	check "step b in run-R-s-1-a-1 under the steps' cgroup" contains \
	    "$logs" "/$(basename "$BASE")/run-$id-s-1-a-1"
	check "the attempt's directory is removed" wait_for 3 eval \
	    "! ls -d '$BASE'/run-$id-* >/dev/null 2>&1"
	check "nothing left in the steps' cgroup" eq \
	    "$(find "$BASE" -mindepth 1 -maxdepth 1 -type d | wc -l)" 0
	stop_daemon
	check "the steps' cgroup is removed at exit" eval "[ ! -d '$BASE' ]"
	end
}

t_escape() {
	begin "a setsid'd process a worker leaves behind without a sweep dies by cgroup.kill"
	new_env escape
	use_fake scripted
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    "argv = [\"escape\", \"${M}1\"]"
	start_daemon || { T_OK=0; end; return; }
	skip_unless_cgroups || return
	id=$(nfj run j | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	check "step succeeded" eq "$(run_state "$id")" succeeded
	check "the process was left" contains "$(nf logs "$id")" "escaped"
	check "0 survivors" wait_for 3 eval \
	    "! pgrep -f '^/bin/sleep ${M}1' >/dev/null"
	check "the attempt's directory is removed" wait_for 3 eval \
	    "! ls -d '$BASE'/run-$id-* >/dev/null 2>&1"
	for p in $(pgrep -f "^/bin/sleep ${M}1"); do kill -KILL "$p"; done
	check "daemon alive" daemon_alive
	end
}

t_forkbomb() {
	begin "a fork bomb stops at pids.max"
	new_env forkbomb
	# Forks (a subshell: dash exits when a fork is refused) at most 3000
	# sleeps, then reads pids.max and pids.current with builtins only (no
	# fork is possible at the limit).
	cat > "$D/jobs.d/bomb.toml" <<EOT
[[jobs]]
id = "bomb"
[[jobs.steps]]
name = "s"
type = "exec"
timeout_seconds = 60
argv = ["/bin/sh", "-c", "c=\$(sed -n 's/^0:://p' /proc/self/cgroup); (i=0; while [ \$i -lt 3000 ]; do /bin/sleep ${M}3 & i=\$((i + 1)); done) 2>/dev/null; read max < $BASE_MNT\$c/pids.max; read cur < $BASE_MNT\$c/pids.current; echo \"max \$max current \$cur\""]
EOT
	start_daemon || { T_OK=0; end; return; }
	skip_unless_cgroups || return
	if ! grep -qw pids "$BASE/cgroup.subtree_control"; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - $T_CUR # SKIP no pids controller in the cgroup2 of nomaflowd (the daemon logs: steps are bounded by rlimits only)" >&3
		stop_daemon
		DPID=
		return
	fi
	id=$(nfj run bomb | jq -r .run_id)
	check "run ends" wait_run "$id" 90
	out=$(nf logs "$id" | grep 'max .* current ')
	diag "$out"
	check "pids.max is 1024" contains "$out" "max 1024"
	cur=$(printf '%s\n' "$out" | sed -n 's/.*current \([0-9]*\).*/\1/p')
	check "at most 1024 processes" eval "[ '${cur:-9999}' -le 1024 ]"
	check "0 survivors" wait_for 5 eval \
	    "! pgrep -f '^/bin/sleep ${M}3' >/dev/null"
	for p in $(pgrep -f "^/bin/sleep ${M}3"); do kill -KILL "$p"; done
	check "daemon alive" daemon_alive
	end
}

t_leftover() {
	begin "what a killed nomaflowd left in cgroups is killed and removed at the next start"
	new_env leftover
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"setsid /bin/sleep ${M}2 </dev/null >/dev/null 2>&1 & exec /bin/sleep ${M}2\"]"
	start_daemon || { T_OK=0; end; return; }
	skip_unless_cgroups || return
	id=$(nfj run j | jq -r .run_id)
	check "the step is running" wait_for 10 eval \
	    "[ \$(pgrep -f '^/bin/sleep ${M}2' | wc -l) -ge 2 ]"
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	DPID=
	# The worker dies with its parent (PDEATHSIG) or not: the setsid'd
	# sleep outlives both, in the attempt's cgroup.
	check "a process survives the daemon" wait_for 3 eval \
	    "pgrep -f '^/bin/sleep ${M}2' >/dev/null"
	check "its cgroup is left" eval "ls -d '$BASE'/run-$id-* >/dev/null"
	start_daemon || { T_OK=0; end; return; }
	check "the start says so" wait_for 3 grep -q \
	    "step cgroup left by a previous nomaflowd killed and removed" \
	    "$D/daemon.log"
	check "0 survivors" wait_for 3 eval \
	    "! pgrep -f '^/bin/sleep ${M}2' >/dev/null"
	check "the old attempt's directory is removed" wait_for 3 eval \
	    "! ls -d '$BASE'/run-$id-* >/dev/null 2>&1"
	for p in $(pgrep -f "^/bin/sleep ${M}2"); do kill -KILL "$p"; done
	check "daemon alive" daemon_alive
	end
}

t_unavailable() {
	begin "without a writable cgroup2 the daemon says so once and the sweep contains steps"
	new_env unavailable
	if [ "$(id -u)" != 0 ] || [ -z "$BASE_MNT" ] ||
	    ! command -v unshare >/dev/null 2>&1; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - $T_CUR # SKIP needs root, unshare and a cgroup2 mount" >&3
		return
	fi
	# The daemon in a mount namespace of its own where cgroup2 is
	# read-only.
	cat > "$D/ro-cgroup" <<EOT
#!/bin/sh
exec unshare -m sh -c 'mount --make-rprivate / &&
    mount -o remount,bind,ro "\$0" && exec "\$@"' "$BASE_MNT" "$NOMAFLOWD" "\$@"
EOT
	chmod +x "$D/ro-cgroup"
	job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"(setsid /bin/sleep ${M}4 &); cat /proc/self/cgroup\"]"
	NOMAFLOWD_REAL=$NOMAFLOWD
	NOMAFLOWD=$D/ro-cgroup
	start_daemon
	rc=$?
	NOMAFLOWD=$NOMAFLOWD_REAL
	[ $rc -eq 0 ] || { T_OK=0; end; return; }
	check "the start says why, once" eq "$(grep -c \
	    "cgroups: not available (cannot create .*Read-only file system.*); the worker's subreaper sweep contains steps" \
	    "$D/daemon.log")" 1
	id=$(nfj run j | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	check "run succeeded" eq "$(run_state "$id")" succeeded
	check "no cgroup of its own" eval "! nf logs '$id' | grep -q nomaflow-steps"
	check "0 survivors" wait_for 3 eval \
	    "! pgrep -f '^/bin/sleep ${M}4' >/dev/null"
	for p in $(pgrep -f "^/bin/sleep ${M}4"); do kill -KILL "$p"; done
	check "daemon alive" daemon_alive
	end
}

ALL="t_own t_escape t_forkbomb t_leftover t_unavailable"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
