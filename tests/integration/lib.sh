# lib.sh: helpers for the real-daemon integration tests (sourced by run.sh).
#
# Every test gets a fresh directory with its own nomaflow.toml, jobs.d/,
# state and control socket, starts a real nomaflowd there and drives it with
# nfctl.  Output is TAP.

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$(pwd)}"
NOMAFLOWD=$top_builddir/nomaflowd
NFCTL=$top_builddir/nfctl
WORKER=$top_builddir/nomaflow-worker
FAKES=$top_builddir/tests/integration/fakes
POLICIES=$top_srcdir/policies

T_ROOT=$(mktemp -d /tmp/nomaflow-it.XXXXXX)
T_NUM=0
T_FAILED=0
T_CUR=
T_OK=1
DPID=

cleanup_all() {
	[ -n "$DPID" ] && kill -9 "$DPID" 2>/dev/null
	if [ "$T_FAILED" -eq 0 ]; then
		rm -rf "$T_ROOT"
	else
		echo "# test directories kept in $T_ROOT"
	fi
}
trap cleanup_all EXIT

# A fresh test directory with a default config; extra config lines on stdin
# are appended when $1 = "-".
new_env() {
	D=$T_ROOT/$1
	mkdir -p "$D/jobs.d"
	SOCK=$D/state/nomaflowd.sock
	cat > "$D/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$POLICIES"
jobs_dir = "jobs.d"
log_level = "debug"
shutdown_grace_seconds = 3

[worker]
grace_seconds = 1
EOT
	# As root, steps run as root, also on a machine that has a "nomaflow"
	# user (a root nomaflowd's default for steps, which could not read
	# the test directories).
	if [ "$(id -u)" = 0 ]; then
		sed -i 's/^\[worker\]$/[worker]\nrun_as = "root"/' \
		    "$D/nomaflow.toml"
	fi
	# Sanitizer builds (--disable-sandbox) run the same tests unsandboxed.
	if [ "${NF_UNSANDBOXED:-0}" = 1 ]; then
		sed -i 's/^\[worker\]$/[worker]\nallow_unsandboxed = true/' \
		    "$D/nomaflow.toml"
	fi
}

# Tests that need the seccomp sandbox call this first.
need_sandbox() {
	if [ "${NF_UNSANDBOXED:-0}" = 1 ]; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - $1 # SKIP unsandboxed (sanitizer) build" >&3
		return 1
	fi
	return 0
}

# Append text (stdin) to a file.
add() { cat >> "$1"; }

start_daemon() {
	"$NOMAFLOWD" -d -f "$D/nomaflow.toml" >> "$D/daemon.log" 2>&1 &
	DPID=$!
	wait_for 5 test -S "$SOCK" || {
		diag "daemon did not start:"; sed 's/^/#   /' "$D/daemon.log" >&3
		return 1
	}
	wait_for 5 nf status || return 1
}

stop_daemon() {
	[ -n "$DPID" ] || return 0
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	DRC=$?
	DPID=
	return 0
}

daemon_alive() { [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; }

nf() { "$NFCTL" -s "$SOCK" "$@"; }
nfj() { "$NFCTL" -s "$SOCK" --json "$@"; }

# wait_for SECONDS COMMAND...: retry every 50 ms until it succeeds.
wait_for() {
	_t=$1; shift
	_end=$(( $(date +%s%N) / 1000000 + _t * 1000 ))
	while :; do
		"$@" >/dev/null 2>&1 && return 0
		[ $(( $(date +%s%N) / 1000000 )) -ge $_end ] && return 1
		sleep 0.05
	done
}

run_state() { nfj run show "$1" | jq -r .state; }
run_done() {
	case $(run_state "$1") in
	succeeded|failed|canceled|skipped) return 0 ;;
	*) return 1 ;;
	esac
}
wait_run() { wait_for "${2:-20}" run_done "$1"; }

# TAP goes to fd 3 (the original stdout): commands under check are quiet.
exec 3>&1
diag() { printf '# %s\n' "$*" >&3; }

# check DESCRIPTION COMMAND...: one assertion inside the current test.
check() {
	_d=$1; shift
	if "$@" >/dev/null 2>&1; then :; else
		T_OK=0
		diag "$T_CUR: failed: $_d"
	fi
}
eq() { [ "$1" = "$2" ] || { diag "expected [$2], got [$1]"; return 1; }; }
contains() {
	case $1 in *"$2"*) return 0 ;; esac
	diag "expected to find [$2] in:"
	printf '%s\n' "$1" | sed 's/^/#   /' | head -20 >&3
	return 1
}

begin() { T_CUR=$1; T_OK=1; }
end() {
	T_NUM=$((T_NUM + 1))
	if [ "$T_OK" -eq 1 ]; then
		echo "ok $T_NUM - $T_CUR" >&3
	else
		T_FAILED=$((T_FAILED + 1))
		echo "not ok $T_NUM - $T_CUR" >&3
		if [ -f "$D/daemon.log" ]; then
			diag "daemon log (tail):"
			tail -n 25 "$D/daemon.log" | sed 's/^/#   /' >&3
		fi
	fi
	if daemon_alive; then stop_daemon; fi
	DPID=
}

# job ID STEP-TOML...: write a one-job file jobs.d/ID.toml.
job() {
	_id=$1; shift
	{
		printf '[[jobs]]\nid = "%s"\n' "$_id"
		printf '%s\n' "$@"
	} > "$D/jobs.d/$_id.toml"
}
