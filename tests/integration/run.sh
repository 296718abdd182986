#!/bin/sh
# run.sh: real-daemon integration tests.  A real nomaflowd in a temp dir,
# driven by nfctl; workers are the real nomaflow-worker under seccomp (or
# misbehaving fakes).  Prints TAP.  Needs jq.
#
#   top_srcdir=... top_builddir=... tests/integration/run.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi

# ---------------------------------------------------------------------------
t_success() {
	begin "exec job succeeds; run, logs and history visible through nfctl"
	new_env success
	job hello 'description = "say hello"' 'tags = ["demo"]' \
	    '[[jobs.steps]]' 'name = "greet"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo hello from $NOMAFLOW_JOB_ID; echo oops >&2"]'
	start_daemon || { T_OK=0; end; return; }
	out=$(nf run hello --follow 2>&1); rc=$?
	check "run --follow exits 0" eq "$rc" 0
	check "live log shows stdout" contains "$out" "hello from hello"
	check "live log shows stderr" contains "$out" "oops"
	id=$(nfj runs --job hello | jq -r '.[0].id')
	check "run recorded succeeded" eq "$(run_state "$id")" succeeded
	check "trigger kind manual" eq "$(nfj run show "$id" | jq -r .trigger)" manual
	check "triggered_by names the user" eq "$(nfj run show "$id" | jq -r .triggered_by)" "user:$(id -un)"
	check "one attempt, succeeded" eq "$(nfj run show "$id" | jq -r '[.attempts[] | .state] | join(",")')" succeeded
	logs=$(nf logs "$id")
	check "stored log has the line" contains "$logs" "hello from hello"
	check "jobs --tag lists it" eq "$(nfj jobs --tag demo | jq -r '.[].id')" hello
	check "jobs --tag other is empty" eq "$(nfj jobs --tag nope | jq -r 'length')" 0
	nf run hello --follow >/dev/null 2>&1
	nf run hello --follow >/dev/null 2>&1
	page=$(nfj runs --job hello --limit 2 | jq -r '[.[].id] | join(",")')
	last=${page##*,}
	check "runs --limit 2: the two newest" eq "$(echo "$page" | tr ',' '\n' | wc -l)" 2
	check "runs --before: the next page is the first run" eq \
	    "$(nfj runs --job hello --limit 2 --before "$last" | jq -r '[.[].id] | join(",")')" "$id"
	check "runs --before the first run: nothing" eq \
	    "$(nfj runs --job hello --before "$id" | jq -r 'length')" 0
	nf runs --before x >/dev/null 2>&1; rc=$?
	check "runs --before x: exit 64" eq "$rc" 64
	check "daemon alive" daemon_alive
	end
}

t_live_log() {
	begin "logs -f shows lines while the step writes them and ends with the run"
	new_env live
	job slow '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo first; sleep 2; echo second"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run slow | jq -r .run_id)
	nf logs "$id" -f > "$D/follow.out" 2>&1 &
	fpid=$!
	check "first line arrives before the step ends" \
	    wait_for 2 grep -q first "$D/follow.out"
	check "second line not yet written" eval '! grep -q second "$D/follow.out"'
	wait "$fpid"; frc=$?
	check "logs -f exits 0 when the run succeeds" eq "$frc" 0
	check "second line arrived" grep -q second "$D/follow.out"
	end
}

t_retry() {
	begin "a failing step is retried with backoff and then succeeds"
	new_env retry
	job flaky 'retry = { attempts = 3, backoff = "fixed", base_seconds = 0.3 }' \
	    '[[jobs.steps]]' 'name = "try"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"if [ -f $D/once ]; then echo second try; else touch $D/once; echo failing >&2; exit 3; fi\"]"
	start_daemon || { T_OK=0; end; return; }
	nf run flaky --follow > "$D/out" 2>&1; rc=$?
	check "run succeeded" eq "$rc" 0
	id=$(nfj runs --job flaky | jq -r '.[0].id')
	show=$(nfj run show "$id")
	check "two attempts" eq "$(echo "$show" | jq -r '.attempts | length')" 2
	check "first failed with exit 3, reason error" eq \
	    "$(echo "$show" | jq -r '.attempts[0] | "\(.state) \(.reason) \(.exit_code)"')" "failed error 3"
	check "second succeeded" eq "$(echo "$show" | jq -r '.attempts[1].state')" succeeded
	check "retry announced in the log" contains "$(cat "$D/out")" "retrying step try"
	end
}

t_timeout() {
	begin "a step past its timeout is stopped and recorded as timeout"
	new_env timeout
	job sleepy '[[jobs.steps]]' 'name = "nap"' 'type = "exec"' \
	    'timeout_seconds = 1' 'argv = ["/bin/sleep", "33"]'
	start_daemon || { T_OK=0; end; return; }
	t0=$(date +%s)
	nf run sleepy --follow > "$D/out" 2>&1; rc=$?
	t1=$(date +%s)
	check "run --follow exits 1" eq "$rc" 1
	id=$(nfj runs --job sleepy | jq -r '.[0].id')
	check "run failed, reason timeout" eq "$(nfj run show "$id" | jq -r '"\(.state) \(.reason)"')" "failed timeout"
	check "attempt reason timeout" eq "$(nfj run show "$id" | jq -r '.attempts[0].reason')" timeout
	check "stopped within a few seconds" test $((t1 - t0)) -lt 8
	check "no sleep left behind" eval '! pgrep -f "^/bin/sleep 33" >/dev/null'
	end
}

t_cancel() {
	begin "cancel stops a running step; the run is canceled"
	new_env cancel
	job long '[[jobs.steps]]' 'name = "wait"' 'type = "exec"' \
	    'argv = ["/bin/sleep", "60"]' \
	    '[[jobs.steps]]' 'name = "never"' 'type = "exec"' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run long | jq -r .run_id)
	check "run is running" wait_for 3 sh -c "$NFCTL -s $SOCK --json run show $id | jq -e '.attempts[0].state == \"running\"'"
	check "cancel accepted" nf cancel "$id"
	check "run ends" wait_run "$id" 10
	show=$(nfj run show "$id")
	check "run canceled" eq "$(echo "$show" | jq -r .state)" canceled
	check "attempt canceled" eq "$(echo "$show" | jq -r '.attempts[0].state')" canceled
	check "second step never ran" eq "$(echo "$show" | jq -r '.attempts | length')" 1
	nf cancel "$id" >/dev/null 2>&1; rc=$?
	check "cancelling a finished run fails with 1" eq "$rc" 1
	nf cancel 99999 >/dev/null 2>&1; rc=$?
	check "cancelling an unknown run exits 2" eq "$rc" 2
	end
}

t_segv() {
	begin "a step that segfaults fails with reason crash (SIGSEGV); the daemon lives"
	new_env segv
	job boom '[[jobs.steps]]' 'name = "crash"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo about to crash; kill -SEGV $$$$"]'
	start_daemon || { T_OK=0; end; return; }
	nf run boom --follow > "$D/out" 2>&1
	id=$(nfj runs --job boom | jq -r '.[0].id')
	show=$(nfj run show "$id")
	check "run failed" eq "$(echo "$show" | jq -r .state)" failed
	check "reason crash" eq "$(echo "$show" | jq -r '.attempts[0].reason')" crash
	check "signal is SIGSEGV (11)" eq "$(echo "$show" | jq -r '.attempts[0].signal')" 11
	check "error names SIGSEGV" contains "$(echo "$show" | jq -r '.attempts[0].error')" SIGSEGV
	check "daemon alive" daemon_alive
	check "daemon answers" nf status
	end
}

t_sandbox() {
	need_sandbox "blocked system call -> reason sandbox" || return 0
	begin "a blocked system call fails the step with reason sandbox naming the policy"
	new_env sandbox
	# unshare(2) is in a hard-denied group of exec.policy: SIGSYS.
	job jail '[[jobs.steps]]' 'name = "escape"' 'type = "exec"' \
	    'argv = ["/usr/bin/unshare", "--user", "/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	nf run jail --follow > "$D/out" 2>&1
	id=$(nfj runs --job jail | jq -r '.[0].id')
	show=$(nfj run show "$id")
	check "run failed" eq "$(echo "$show" | jq -r .state)" failed
	check "reason sandbox" eq "$(echo "$show" | jq -r '.attempts[0].reason')" sandbox
	check "error names the policy" contains "$(echo "$show" | jq -r '.attempts[0].error')" "policy exec"
	check "sandbox failures are not retried" eq "$(echo "$show" | jq -r '.attempts | length')" 1
	check "daemon alive" daemon_alive
	end
}

t_protocol() {
	begin "fake workers: garbage, a 4 GiB frame, no result, crash after result"
	for f in garbage huge noresult crash-after-result; do
		new_env "proto-$f"
		printf 'path = "%s"\n' "$FAKES/fake-$f" > "$D/w"
		sed -i "/^\[worker\]/r $D/w" "$D/nomaflow.toml"
		job j '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
		start_daemon || { T_OK=0; continue; }
		id=$(nfj run j | jq -r .run_id)
		wait_run "$id" 20
		show=$(nfj run show "$id")
		case $f in
		crash-after-result) want="failed crash" ;;
		*) want="failed protocol" ;;
		esac
		check "$f: $want" eq "$(echo "$show" | jq -r '"\(.state) \(.attempts[0].reason)"')" "$want"
		diag "$f: $(echo "$show" | jq -r '.attempts[0].error')"
		check "$f: daemon alive" daemon_alive
		check "$f: daemon answers" nf status
		rss=$(awk '/VmHWM/ {print $2}' /proc/$DPID/status)
		check "$f: supervisor peak RSS under 64 MiB ($rss kB)" test "$rss" -lt 65536
		stop_daemon
	done
	end
}

t_conflict() {
	begin "a manual run of a running job is refused (exit 3) unless forced"
	new_env conflict
	job busy '[[jobs.steps]]' 'name = "w"' 'type = "exec"' 'argv = ["/bin/sleep", "5"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run busy | jq -r .run_id)
	err=$(nf run busy 2>&1); rc=$?
	check "refused with exit 3" eq "$rc" 3
	check "message says why" contains "$err" "already running"
	id2=$(nfj run busy --force | jq -r .run_id)
	check "--force starts a second run" test "$id2" -gt "$id"
	nf cancel "$id" >/dev/null; nf cancel "$id2" >/dev/null
	wait_run "$id"; wait_run "$id2"
	nf run nosuchjob >/dev/null 2>&1; rc=$?
	check "unknown job exits 2" eq "$rc" 2
	nf frobnicate >/dev/null 2>&1; rc=$?
	check "unknown command exits 64" eq "$rc" 64
	"$NFCTL" -s "$D/nonexistent.sock" status >/dev/null 2>&1; rc=$?
	check "unreachable daemon exits 69" eq "$rc" 69
	end
}

t_reload() {
	begin "HUP with a broken jobs file: error reported, old config keeps running"
	new_env reload
	job keep '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "kept"]'
	start_daemon || { T_OK=0; end; return; }
	printf '[[jobs]]\nid = "broken"\nschedule = "61 * * * *"\n[[jobs.steps]]\nname = "x"\ntype = "exec"\nargv = ["/bin/true"]\n' > "$D/jobs.d/broken.toml"
	kill -HUP "$DPID"
	check "reload recorded as failed" wait_for 5 sh -c "$NFCTL -s $SOCK --json status | jq -e '.last_reload.ok == false'"
	errs=$(nfj status | jq -r '.last_reload.errors[]')
	check "error has file:line:col" contains "$errs" "broken.toml:3:"
	check "daemon alive" daemon_alive
	check "old job still runs" nf run keep --follow
	check "broken job not loaded" eval '! nf job show broken >/dev/null 2>&1'
	out=$(nf reload 2>&1); rc=$?
	check "nfctl reload exits 1 and prints the error" eq "$rc" 1
	check "nfctl reload names the file" contains "$out" "broken.toml"
	rm "$D/jobs.d/broken.toml"
	job fresh '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
	check "good reload succeeds" nf reload
	check "new job is there" nf job show fresh
	end
}

t_check() {
	begin "nomaflowd -n prints every error as file:line:col and exits non-zero"
	new_env check
	printf '[[jobs]]\nid = "a b"\nbogus = 1\n[[jobs.steps]]\nname = "s"\ntype = "exec"\nargv = ["/bin/true"]\n' > "$D/jobs.d/one.toml"
	printf '[[jobs]]\nid = "c"\nschedule = "* * * *"\n[[jobs.steps]]\nname = "s"\ntype = "nosuch"\n' > "$D/jobs.d/two.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "exit non-zero" test "$rc" -ne 0
	check "bad id reported" contains "$out" "one.toml:2:"
	check "unknown key reported" contains "$out" "one.toml:3:1"
	check "bad schedule reported" contains "$out" "two.toml:3:"
	check "unknown step type reported" contains "$out" "two.toml:6:"
	rm "$D/jobs.d/one.toml" "$D/jobs.d/two.toml"
	job ok '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
	check "a good config passes" "$NOMAFLOWD" -n -f "$D/nomaflow.toml"
	out=$("$NOMAFLOWD" -n -v -f "$D/nomaflow.toml" 2>/dev/null)
	check "-n -v prints the job" contains "$out" 'id = "ok"'
	check "-n -v prints the step's argv" contains "$out" 'argv = ["/bin/true"]'
	end
}

t_sql() {
	begin "sql_query on a SQLite pool binds params and returns rows"
	new_env sql
	cat >> "$D/nomaflow.toml" <<EOT

[pools.local]
driver = "sqlite"
path = "$D/data.db"
EOT
	job q 'params = { who = "world" }' \
	    '[[jobs.steps]]' 'name = "mk"' 'type = "sql_query"' 'pool = "local"' \
	    'sql = "CREATE TABLE IF NOT EXISTS t (who TEXT, n INTEGER)"' \
	    '[[jobs.steps]]' 'name = "ins"' 'type = "sql_query"' 'pool = "local"' \
	    'sql = "INSERT INTO t VALUES (:who, 41), (:who, 1)"' \
	    '[[jobs.steps]]' 'name = "sel"' 'type = "sql_query"' 'pool = "local"' \
	    'sql = "SELECT who, sum(n) AS total FROM t GROUP BY who"'
	start_daemon || { T_OK=0; end; return; }
	check "run succeeds" nf run q --follow -p who=nomaflow
	id=$(nfj runs --job q | jq -r '.[0].id')
	show=$(nfj run show "$id")
	check "insert affected 2 rows" eq "$(echo "$show" | jq -r '.attempts[1].rows_affected')" 2
	check "select returns the bound value" eq \
	    "$(echo "$show" | jq -r '.attempts[2].output.rows[0] | "\(.who) \(.total)"')" "nomaflow 42"
	job bad '[[jobs.steps]]' 'name = "oops"' 'type = "sql_query"' 'pool = "local"' \
	    'sql = "SELEC 1"'
	nf reload >/dev/null
	nf run bad --follow > "$D/out" 2>&1
	id=$(nfj runs --job bad | jq -r '.[0].id')
	check "bad SQL fails with reason error" eq "$(nfj run show "$id" | jq -r '.attempts[0].reason')" error
	check "error carries SQLite's message" contains "$(nfj run show "$id" | jq -r '.attempts[0].error')" "syntax error"
	check "pool test succeeds" nf pool test local
	end
}

t_term() {
	begin "TERM lets a running step finish within the grace; past it the step is interrupted"
	new_env term
	job short '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "sleep 1; echo finished"]' \
	    '[[jobs.steps]]' 'name = "next"' 'type = "exec"' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run short | jq -r .run_id)
	sleep 0.3
	stop_daemon
	check "daemon exits 0 on TERM" eq "$DRC" 0
	start_daemon
	show=$(nfj run show "$id")
	check "running step finished" eq "$(echo "$show" | jq -r '.attempts[0].state')" succeeded
	check "run failed as interrupted before the next step" eq "$(echo "$show" | jq -r '"\(.state) \(.reason)"')" "failed interrupted"
	job long '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/sleep", "60"]'
	nf reload >/dev/null
	id=$(nfj run long | jq -r .run_id)
	sleep 0.3
	t0=$(date +%s); stop_daemon; t1=$(date +%s)
	check "daemon exits 0 after the grace" eq "$DRC" 0
	check "grace (3 s) respected, not much more" test $((t1 - t0)) -le 6
	start_daemon
	show=$(nfj run show "$id")
	check "attempt recorded interrupted" eq "$(echo "$show" | jq -r '"\(.attempts[0].state) \(.attempts[0].reason)"')" "failed interrupted"
	check "no worker left" eval '! pgrep -f "^/bin/sleep 60" >/dev/null'
	end
}

t_kill_restart() {
	begin "supervisor SIGKILLed mid-run: run interrupted on restart, next cron slot fires once"
	new_env killed
	job cron1 'schedule = "* * * * *"' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "tick"]'
	job long '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/sleep", "60"]'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run long | jq -r .run_id)
	check "step running" wait_for 3 pgrep -f "^/bin/sleep 60"
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
	check "worker and its child die with the supervisor" wait_for 3 eval '! pgrep -f "^/bin/sleep 60"'
	start_daemon
	show=$(nfj run show "$id")
	check "run failed interrupted" eq "$(echo "$show" | jq -r '"\(.state) \(.reason)"')" "failed interrupted"
	check "attempt interrupted" eq "$(echo "$show" | jq -r '.attempts[0].reason')" interrupted
	# Wait for the next minute's slot, then restart twice inside the minute.
	next=$(nfj job show cron1 | jq -r '.next_fires[0] / 1000 | floor')
	now=$(date +%s)
	diag "waiting $((next - now + 2)) s for the next cron slot"
	sleep $((next - now + 2))
	check "slot fired" wait_for 5 sh -c "$NFCTL -s $SOCK --json runs --job cron1 | jq -e 'length == 1'"
	kill -9 "$DPID"; wait "$DPID" 2>/dev/null; DPID=
	start_daemon
	stop_daemon
	start_daemon
	sleep 1
	runs=$(nfj runs --job cron1)
	check "exactly one run for the slot" eq "$(echo "$runs" | jq -r 'length')" 1
	check "it is a cron run of that slot" eq "$(echo "$runs" | jq -r '.[0] | "\(.trigger) \(.scheduled_for)"')" "cron $next"
	end
}

t_exec_errors() {
	begin "exec steps that cannot start or exit non-zero fail with the reason and where"
	new_env execerr
	job noabs '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/nonexistent/tool", "x"]'
	job nopath '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["no-such-tool-here"]' 'env = { PATH = "/usr/bin:/bin" }'
	job nocwd '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/true"]' 'cwd = "/nonexistent-dir"'
	job three '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo before; exit 3"]'
	start_daemon || { T_OK=0; end; return; }
	for j in noabs nopath nocwd three; do
		nf run "$j" --follow > "$D/out-$j" 2>&1
		eval "show_$j=\$(nfj run show \$(nfj runs --job $j | jq -r '.[0].id'))"
	done
	a='.attempts[0]'
	check "missing program: failed error" eq "$(echo "$show_noabs" | jq -r "\"\\(.state) \\($a.reason)\"")" "failed error"
	check "missing program: names it and why" contains "$(echo "$show_noabs" | jq -r "$a.error")" "cannot execute /nonexistent/tool: No such file or directory"
	check "PATH miss: says which PATH was searched" contains "$(echo "$show_nopath" | jq -r "$a.error")" "searched PATH=/usr/bin:/bin"
	check "bad cwd: names the directory" contains "$(echo "$show_nocwd" | jq -r "$a.error")" "cannot change directory to /nonexistent-dir"
	check "exit 3: failed error" eq "$(echo "$show_three" | jq -r "\"\\(.state) \\($a.reason)\"")" "failed error"
	check "exit 3: error gives the status" contains "$(echo "$show_three" | jq -r "$a.error")" "exited with status 3"
	check "exit 3: output before the exit kept" contains "$(cat "$D/out-three")" "before"
	check "daemon alive" daemon_alive
	end
}

t_survivors() {
	begin "no process outlives its step: double fork + setsid, a daemon, a fork storm, a timeout"
	new_env survivors
	# Unique sleep lengths: only this test's processes match.
	m="300.$$$(date +%N | cut -c1-6)"
	job leave '[[jobs.steps]]' 'name = "dbl"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"(setsid /bin/sleep ${m}1 &); echo forked\"]" \
	    '[[jobs.steps]]' 'name = "daemon"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"setsid /bin/sh -c '/bin/sleep ${m}2 </dev/null >/dev/null 2>&1 &' </dev/null >/dev/null 2>&1 & echo daemonised\"]" \
	    '[[jobs.steps]]' 'name = "many"' 'type = "exec"' \
	    "argv = [\"/bin/sh\", \"-c\", \"for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do setsid /bin/sh -c '/bin/sleep ${m}3 & /bin/sleep ${m}3' & done; echo many\"]"
	# Still forking (bounded: 500) when the step ends: the sweep's rounds.
	cat >> "$D/jobs.d/leave.toml" <<EOT
[[jobs.steps]]
name = "storm"
type = "exec"
argv = ["/bin/sh", "-c", "setsid /bin/sh -c 'i=0; while [ \$i -lt 500 ]; do /bin/sleep ${m}5 & i=\$((i + 1)); done; wait' & /bin/sleep 0.2; echo storm"]
EOT
	job stuck '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'timeout_seconds = 1' \
	    "argv = [\"/bin/sh\", \"-c\", \"setsid /bin/sleep ${m}4 & exec /bin/sleep 30\"]"
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run leave | jq -r .run_id)
	check "run ends" wait_run "$id" 20
	check "run succeeded" eq "$(run_state "$id")" succeeded
	check "no setsid'd, daemonised or many-forked sleep left" eval \
	    "! pgrep -f '^/bin/sleep ${m}' >/dev/null"
	check "the log says what was killed" contains "$(nf logs "$id")" \
	    "left running"
	diag "$(nf logs "$id" | grep 'left running')"
	id=$(nfj run stuck | jq -r .run_id)
	check "timeout run ends" wait_run "$id" 20
	check "it timed out" eq "$(nfj run show "$id" | jq -r '.attempts[0].reason')" timeout
	check "no setsid'd sleep left after the timeout" eval \
	    "! pgrep -f '^/bin/sleep ${m}' >/dev/null"
	# A failing run leaves its survivors: end them (unique name) by pid.
	for p in $(pgrep -f "^/bin/sleep ${m}"); do kill -KILL "$p"; done
	check "daemon alive" daemon_alive
	end
}

t_params() {
	begin "run params are typed by the job: a bad or unknown value is refused (exit 64), no run"
	new_env params
	job typed 'params = { n = 5, rate = 1.5, full = false, who = "x", token = "t0p" }' \
	    'secret_params = ["token"]' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/echo", "n=${params.n} full=${params.full}"]'
	job needs 'required_params = ["day"]' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/echo", "day=${params.day}"]'
	start_daemon || { T_OK=0; end; return; }
	err=$(nf run typed -p n=abc 2>&1); rc=$?
	check "integer param given abc: exit 64" eq "$rc" 64
	check "message names job, param, type and value" contains "$err" \
	    'job typed: parameter "n" must be an integer, like its default 5; got "abc"'
	check "no run was created" eq "$(nfj runs --job typed | jq -r 'length')" 0
	err=$(nf run typed -p full=yes -p rate=fast 2>&1); rc=$?
	check "every bad value is named" contains "$err" \
	    'parameter "full" must be a boolean (true or false), like its default false; got "yes"; parameter "rate" must be a number'
	err=$(nf run typed -p nn=1 2>&1); rc=$?
	check "unknown param: exit 64" eq "$rc" 64
	check "unknown param: lists what the job takes" contains "$err" \
	    'job typed: no parameter "nn" (the job takes: n, rate, full, who, token;'
	check "still no run" eq "$(nfj runs --job typed | jq -r 'length')" 0
	out=$(nf run typed --follow -p n=7 -p full=true 2>&1); rc=$?
	check "good values run" eq "$rc" 0
	check "typed values reach the step" contains "$out" "n=7 full=true"
	id=$(nfj runs --job typed | jq -r '.[0].id')
	check "history keeps the integer" eq "$(nfj run show "$id" | jq -r '.params.n | type')" number
	check "history hides the secret" eq "$(nfj run show "$id" | jq -r .params.token)" "***"
	err=$(nf run needs 2>&1); rc=$?
	check "required param not given: exit 64" eq "$rc" 64
	check "required param named" contains "$err" \
	    'job needs: parameter "day" is required and was not given (nfctl run needs -p day=VALUE)'
	check "required given: runs" contains "$(nf run needs --follow -p day=mon 2>&1)" "day=mon"
	check "daemon alive" daemon_alive
	end
}

ALL="t_success t_live_log t_retry t_timeout t_cancel t_segv t_exec_errors t_sandbox t_protocol t_conflict t_reload t_check t_sql t_params t_survivors t_term t_kill_restart"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
