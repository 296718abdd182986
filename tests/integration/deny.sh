#!/bin/sh
# deny.sh: the deny matrix (policies/deny.policy).  Each forbidden system
# call (ptrace, process_vm_*, bpf, perf_event_open, keyrings, mount,
# umount2, pivot_root, kexec, modules, io_uring, userfaultfd, namespaces,
# open_by_handle_at, packet/raw sockets, admin netlink and exotic socket
# families) is tried from an exec step (tests/integration/fakes/try-syscall)
# and most of them from a python step (nftest.deny); every one must fail
# the step with reason "sandbox" and an error naming the call and the
# policy.  A TCP socket and a routing netlink socket still work.  The
# worker's own policies (sql, http, relay) are checked in check_policy;
# here a fake worker (fakes/fake.c, mode trap) installs relay.policy as a
# worker does and calls ptrace: its SIGSYS handler names the call.
# Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/deny.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
TRY=$FAKES/try-syscall
# The python runner from the source tree (an installed worker finds its own).
mkdir -p "$T_ROOT/runner"
cp "$top_srcdir/python/nomaflow_runner.py" "$T_ROOT/runner/"
NOMAFLOW_PYTHON_RUNNER=$T_ROOT/runner/nomaflow_runner.py
export NOMAFLOW_PYTHON_RUNNER

# call NAME: what the report names for try-syscall NAME.
named() {
	case $1 in
	packet|packet-hiword) echo "socket(AF_PACKET, SOCK_RAW)" ;;
	packet-dgram) echo "socket(AF_PACKET, SOCK_DGRAM)" ;;
	raw) echo "socket(AF_INET, SOCK_RAW)" ;;
	raw6) echo "socket(AF_INET6, SOCK_RAW)" ;;
	netlink-xfrm) echo "socket(AF_NETLINK, SOCK_RAW)" ;;
	netlink-netfilter) echo "socket(AF_NETLINK, SOCK_DGRAM)" ;;
	alg) echo "socket(AF_ALG, SOCK_SEQPACKET)" ;;
	vsock) echo "socket(AF_VSOCK, SOCK_STREAM)" ;;
	*) echo "$1" ;;
	esac
}

# expect_denied JOB CALL: the last run of JOB failed with reason sandbox,
# naming the call and the policy, and was not retried.
expect_denied() {
	nf run "$1" --follow > "$D/out" 2>&1
	_id=$(nfj runs --job "$1" | jq -r '.[0].id')
	_show=$(nfj run show "$_id")
	check "$1: failed sandbox" eq "$(echo "$_show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed sandbox"
	check "$1: the call is named" contains "$(echo "$_show" | jq -r '.attempts[0].error')" "sandbox: $2 denied by exec.policy"
	check "$1: not retried" eq "$(echo "$_show" | jq -r '.attempts | length')" 1
}

EXEC_CALLS="ptrace process_vm_readv process_vm_writev bpf perf_event_open
keyctl add_key mount umount2 pivot_root kexec_load kexec_file_load
init_module finit_module delete_module io_uring_setup io_uring_enter
io_uring_register userfaultfd unshare setns open_by_handle_at packet
packet-dgram packet-hiword raw raw6 netlink-xfrm netlink-netfilter alg
vsock"

t_exec() {
	need_sandbox "exec: the deny matrix" || return 0
	begin "exec: every call of the deny matrix fails the step with reason sandbox, the call named"
	new_env exec
	for c in $EXEC_CALLS; do
		job "x-$c" 'retry = { attempts = 2 }' '[[jobs.steps]]' 'name = "try"' \
		    'type = "exec"' "argv = [\"$TRY\", \"$c\"]"
	done
	start_daemon || { T_OK=0; end; return; }
	for c in $EXEC_CALLS; do
		expect_denied "x-$c" "$(named "$c")"
	done
	check "daemon alive" daemon_alive
	end
}

t_exec_allowed() {
	need_sandbox "exec: ordinary sockets" || return 0
	begin "exec: a TCP socket and a routing netlink socket are not denied"
	new_env allowed
	for c in inet netlink-route; do
		job "ok-$c" '[[jobs.steps]]' 'name = "try"' 'type = "exec"' \
		    "argv = [\"$TRY\", \"$c\"]"
	done
	start_daemon || { T_OK=0; end; return; }
	for c in inet netlink-route; do
		out=$(nf run "ok-$c" --follow 2>&1)
		id=$(nfj runs --job "ok-$c" | jq -r '.[0].id')
		check "$c: succeeded" eq "$(run_state "$id")" succeeded
		check "$c: the call returned a socket" contains "$out" "returned $c:"
	done
	end
}

t_descendant() {
	need_sandbox "exec: a denied call in a grandchild" || return 0
	begin "a denied call in a background grandchild fails the step and leaves nothing running"
	new_env descendant
	job grand '[[jobs.steps]]' 'name = "try"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"($TRY packet &); exec sleep 30\"]"
	start_daemon || { T_OK=0; end; return; }
	t0=$(date +%s)
	expect_denied grand "socket(AF_PACKET, SOCK_RAW)"
	check "the step ended at once, not after sleep 30" test $(( $(date +%s) - t0 )) -lt 10
	check "no sleep 30 left" sh -c '! pgrep -f "^sleep 30$"'
	end
}

t_self() {
	need_sandbox "self-installed policy: a deny rule names the call" || return 0
	begin "a worker's own policy: a deny call fails the step with reason sandbox, the call named"
	new_env self
	printf 'path = "%s"\n' "$FAKES/fake-scripted" > "$D/w"
	sed -i "/^\[worker\]/r $D/w" "$D/nomaflow.toml"
	job trap '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["trap"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run trap | jq -r .run_id)
	wait_run "$id" 20
	show=$(nfj run show "$id")
	check "failed sandbox" eq "$(echo "$show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed sandbox"
	check "the call is named" contains "$(echo "$show" | jq -r '.attempts[0].error')" "sandbox: the relay worker called ptrace, denied by relay.policy"
	check "signal is SIGSYS" eq "$(echo "$show" | jq -r '.attempts[0].signal')" 31
	check "daemon alive" daemon_alive
	stop_daemon
	end
}

PY_CALLS="packet raw netlink-xfrm ptrace mount umount2 unshare
process_vm_readv bpf perf_event_open keyctl kexec_load init_module
io_uring_setup userfaultfd"

t_python() {
	need_sandbox "python: the deny matrix" || return 0
	if [ ! -x /usr/bin/python3 ]; then
		T_NUM=$((T_NUM + 1))
		echo "ok $T_NUM - python: the deny matrix # SKIP no /usr/bin/python3" >&3
		return 0
	fi
	begin "python: calls of the deny matrix fail the step with reason sandbox, the call named"
	new_env python
	{
		printf 'python = "/usr/bin/python3"\n'
		printf 'plugins_dir = "%s"\n' "$top_srcdir/tests/integration/plugins"
	} > "$D/top"
	cat "$D/top" "$D/nomaflow.toml" > "$D/n" && mv "$D/n" "$D/nomaflow.toml"
	for c in $PY_CALLS; do
		job "py-$c" '[[jobs.steps]]' 'name = "try"' 'type = "python"' \
		    'callable = "nftest.deny:call"' "kwargs = { name = \"$c\" }"
	done
	job py-tcp '[[jobs.steps]]' 'name = "tcp"' 'type = "python"' \
	    'callable = "nftest.deny:tcp"'
	start_daemon || { T_OK=0; end; return; }
	for c in $PY_CALLS; do
		case $c in
		packet) n="socket(AF_PACKET, SOCK_RAW)" ;;
		raw) n="socket(AF_INET, SOCK_RAW)" ;;
		netlink-xfrm) n="socket(AF_NETLINK, SOCK_RAW)" ;;
		*) n=$c ;;
		esac
		expect_denied "py-$c" "$n"
	done
	nf run py-tcp --follow > "$D/out" 2>&1
	id=$(nfj runs --job py-tcp | jq -r '.[0].id')
	check "a TCP socket still works" eq "$(run_state "$id")" succeeded
	end
}

ALL="t_exec t_exec_allowed t_descendant t_self t_python"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
