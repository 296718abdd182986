#!/bin/sh
# service.sh: nomaflowd as a systemd service.  The Type=notify protocol
# (READY, RELOADING, STOPPING, WATCHDOG) against a stand-in notify socket,
# and "make install DESTDIR=..." installing everything, with the installed
# unit checked by systemd-analyze verify when it is available.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/service.sh [TEST...]

. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3

# A notify socket like systemd's: one datagram a line, into $D/notify.
notify_listen() {
	"$PY" - "$D/notify.sock" "$D/notify" <<'EOP' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "a", buffering=1) as out:
    try:
        while True:
            out.write(s.recv(4096).decode().replace("\n", " ") + "\n")
    except socket.timeout:
        pass
EOP
	NPID=$!
	wait_for 5 test -S "$D/notify.sock"
}

t_notify() {
	begin "Type=notify: READY after start, WATCHDOG, RELOADING/READY on HUP, STOPPING on TERM"
	if [ ! -x "$PY" ]; then
		echo "ok $((T_NUM + 1)) - $T_CUR # SKIP no $PY" >&3
		T_NUM=$((T_NUM + 1)); return
	fi
	new_env notify
	job a 'schedule = "0 0 * * *"' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
	notify_listen
	NOTIFY_SOCKET=$D/notify.sock WATCHDOG_USEC=200000 start_daemon || { T_OK=0; end; return; }
	check "READY=1 sent" wait_for 5 grep -q "READY=1" "$D/notify"
	check "READY=1 sent once at start" eq \
	    "$(grep -c READY=1 "$D/notify")" 1
	sleep 0.5
	n=$(grep -c "WATCHDOG=1" "$D/notify")
	check "WATCHDOG=1 every 100 ms ($n in ~0.5 s)" test "$n" -ge 2
	kill -HUP "$DPID"
	check "RELOADING=1 on HUP" wait_for 5 grep -q "RELOADING=1" "$D/notify"
	check "READY=1 again after the reload" wait_for 5 sh -c \
	    "[ \$(grep -c READY=1 $D/notify) -ge 2 ]"
	stop_daemon
	check "STOPPING=1 on TERM" grep -q "STOPPING=1" "$D/notify"
	check "clean exit" eq "$DRC" 0
	kill "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null
	new_env notify-none
	job a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	check "without NOTIFY_SOCKET it runs as usual" nf run a --follow
	end
}

t_install() {
	begin "make install DESTDIR installs binaries, worker, policies, man pages, config, unit"
	inst=$T_ROOT/inst
	if ! make -s -C "$top_builddir" install DESTDIR="$inst" >"$T_ROOT/install.log" 2>&1; then
		T_OK=0; diag "make install failed:"; tail -5 "$T_ROOT/install.log" | sed 's/^/#   /' >&3
		end; return
	fi
	for f in sbin/nomaflowd bin/nfctl libexec/nomaflow/nomaflow-worker \
	    libexec/nomaflow/nomaflow-worker-sql \
	    libexec/nomaflow/nomaflow-worker-sqlite \
	    libexec/nomaflow/nomaflow-worker-http \
	    share/nomaflow/policies/base.policy share/nomaflow/policies/exec.policy \
	    share/nomaflow/policies/relay.policy share/nomaflow/policies/sql.policy \
	    share/man/man8/nomaflowd.8 share/man/man1/nfctl.1 \
	    share/man/man5/nomaflow.toml.5 share/man/man5/nomaflow-jobs.5 \
	    share/man/man5/nomaflow-policy.5 etc/nomaflow/nomaflow.toml \
	    lib/systemd/system/nomaflowd.service; do
		check "installed $f" test -e "$(find "$inst" -path "*/$f" | head -n 1)"
	done
	unit=$(find "$inst" -name nomaflowd.service | head -n 1)
	check "unit is Type=notify with a watchdog" sh -c \
	    "grep -q '^Type=notify' $unit && grep -q '^WatchdogSec=' $unit"
	for k in NoNewPrivileges ProtectSystem PrivateTmp User StateDirectory RuntimeDirectory; do
		check "unit sets $k" grep -q "^$k=" "$unit"
	done
	if command -v systemd-analyze >/dev/null 2>&1; then
		# Point the unit's commands at the staged tree, as if installed.
		prefix=$(sed -n 's|^ExecStart=\(.*\)/sbin/nomaflowd .*|\1|p' "$unit")
		sed "s|$prefix/|$inst$prefix/|g" "$unit" > "$T_ROOT/nomaflowd.service"
		out=$(systemd-analyze verify --man=no "$T_ROOT/nomaflowd.service" 2>&1); rc=$?
		check "systemd-analyze verify passes" eq "$rc" 0
		[ "$rc" -eq 0 ] || diag "$out"
	else
		diag "systemd-analyze not installed: unit not verified"
	fi
	end
}

t_on_interrupt() {
	begin "on_interrupt: retry replays a run cut by a crash once; fail leaves it failed"
	new_env oninterrupt
	# First life: sleeps (and is killed); the replay finds the marker.
	job again 'on_interrupt = "retry"' 'params = { who = "x" }' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"if [ -f $D/m ]; then echo replayed; else touch $D/m; sleep 60; fi\"]"
	job once '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/sleep", "59"]'
	start_daemon || { T_OK=0; end; return; }
	a=$(nfj run again -p who=y | jq -r .run_id)
	b=$(nfj run once | jq -r .run_id)
	check "both running" wait_for 5 sh -c "pgrep -f '^/bin/sleep 59' && pgrep -f '^sleep 60'"
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
	start_daemon || { T_OK=0; end; return; }
	check "interrupted run recorded failed interrupted" eq \
	    "$(nfj run show "$a" | jq -r '"\(.state) \(.reason)"')" "failed interrupted"
	r=$(nfj runs --job again | jq -r '.[0].id')
	check "a new run was started" test "$r" -gt "$b"
	check "it ends" wait_run "$r" 20
	show=$(nfj run show "$r")
	check "trigger replay, triggered_by run:$a" eq \
	    "$(echo "$show" | jq -r '"\(.trigger) \(.triggered_by)"')" "replay run:$a"
	check "with the params of the interrupted run" eq "$(echo "$show" | jq -r .params.who)" y
	check "the replay succeeded" eq "$(echo "$show" | jq -r .state)" succeeded
	check "on_interrupt = fail (default): not replayed" eq \
	    "$(nfj runs --job once | jq -r 'length')" 1
	end
}

ALL="t_notify t_install t_on_interrupt"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
