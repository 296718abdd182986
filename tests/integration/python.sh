#!/bin/sh
# python.sh: python steps against a real nomaflowd and nomaflow-worker:
# outputs passed between steps, kwargs/params order, ctx, the order of
# print/stderr/logging lines, exceptions with tracebacks, bad return types,
# a segfault, a busy loop past its timeout, cancel, and blocked syscalls.
# Plugins live in tests/integration/plugins/nftest/.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/python.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
if [ ! -x /usr/bin/python3 ]; then
	echo "1..0 # SKIP /usr/bin/python3 is not installed"
	exit 0
fi

# The runner from the source tree (an installed worker finds its own),
# copied under this run's directory so that "is an interpreter left?"
# looks only at ours, not at other test runs on the machine.
mkdir -p "$T_ROOT/runner"
cp "$top_srcdir/python/nomaflow_runner.py" "$T_ROOT/runner/"
NOMAFLOW_PYTHON_RUNNER=$T_ROOT/runner/nomaflow_runner.py
export NOMAFLOW_PYTHON_RUNNER
PLUGINS=$top_srcdir/tests/integration/plugins

# py_env NAME: new_env with the test plugins and the python interpreter.
py_env() {
	new_env "$1"
	{
		printf 'python = "/usr/bin/python3"\n'
		printf 'plugins_dir = "%s"\n' "$PLUGINS"
	} > "$D/top"
	cat "$D/top" "$D/nomaflow.toml" > "$D/n" && mv "$D/n" "$D/nomaflow.toml"
}

# run_job JOB: run it to the end; sets ID and SHOW (run show --json).
run_job() {
	nf run "$1" --follow > "$D/out" 2>&1
	ID=$(nfj runs --job "$1" | jq -r '.[0].id')
	SHOW=$(nfj run show "$ID")
}
att() { echo "$SHOW" | jq -r ".attempts[${2:-0}].$1"; }

# ---------------------------------------------------------------------------
t_outputs() {
	begin "python output is stored, read by the next python step (ctx.outputs) and by templates"
	py_env outputs
	job pipe 'params = { count = 4 }' \
	    '[[jobs.steps]]' 'name = "make"' 'type = "python"' \
	    'callable = "nftest.steps:produce"' 'kwargs = { label = "widgets" }' \
	    '[[jobs.steps]]' 'name = "use"' 'type = "python"' \
	    'callable = "nftest.steps:consume"' \
	    '[[jobs.steps]]' 'name = "tmpl"' 'type = "exec"' \
	    'argv = ["/bin/echo", "template sees total=${steps.make.output.total} first=${steps.make.output.rows[1].n}"]'
	start_daemon || { T_OK=0; end; return; }
	run_job pipe
	check "run succeeded" eq "$(echo "$SHOW" | jq -r .state)" succeeded
	check "first step output stored" eq "$(echo "$SHOW" | jq -c '.attempts[0].output | [.label, .total, (.rows | length)]')" '["widgets",6,4]'
	check "second step rows_affected from its int" eq "$(att rows_affected 1)" 4
	logs=$(nf logs "$ID")
	check "ctx.logger line logged" contains "$logs" "producing 4 widgets for run $ID"
	check "second step saw the output" contains "$logs" "consumed 4 widgets total=6"
	check "a later step's template reads it" contains "$logs" "template sees total=6 first=1"
	check "start-up time logged" contains "$logs" "python: interpreter started and nftest.steps:produce imported in"
	diag "$(printf '%s\n' "$logs" | grep -o 'imported in [0-9]* ms' | head -2 | tr '\n' ' ')"
	end
}

t_kwargs() {
	begin "kwargs rank between job params and run params; ctx.pools has the named pools"
	py_env kwargs
	add "$D/nomaflow.toml" <<EOT

[pools.wh]
driver = "sqlite"
path = "$D/wh.db"
EOT
	job order 'params = { a = "job", b = "job", c = "job", n = 1 }' \
	    '[[jobs.steps]]' 'name = "show"' 'type = "python"' \
	    'callable = "nftest.steps:kwargs_order"' \
	    'kwargs = { b = "kwargs", c = "kwargs", n = 3 }' 'pools = ["wh"]'
	start_daemon || { T_OK=0; end; return; }
	nf run order --follow -p c=run -p n=7 > "$D/out" 2>&1
	ID=$(nfj runs --job order | jq -r '.[0].id')
	SHOW=$(nfj run show "$ID")
	check "run succeeded" eq "$(echo "$SHOW" | jq -r .state)" succeeded
	check "job < kwargs < run" eq "$(att output | jq -c '[.a, .b, .c]')" '["job","kwargs","run"]'
	check "run value typed like the job param" eq "$(att output | jq -c .n)" 7
	check "ctx ids" eq "$(att output | jq -c '[.job, .step]')" '["order","show"]'
	check "ctx.pools" eq "$(att output | jq -c .pools)" '["wh"]'
	end
}

t_order() {
	begin "print, sys.stderr and logging keep their order in the stored log"
	py_env order
	job noisy '[[jobs.steps]]' 'name = "talk"' 'type = "python"' \
	    'callable = "nftest.steps:interleave"' 'kwargs = { n = 50 }'
	start_daemon || { T_OK=0; end; return; }
	run_job noisy
	check "run succeeded" eq "$(echo "$SHOW" | jq -r .state)" succeeded
	nfj logs "$ID" | jq -r '.lines[] | select(.line | test("^(nftest.steps: )?seq ")) | "\(.stream) \(.level // "-") \(.line | sub("^nftest.steps: "; ""))"' > "$D/seq"
	check "150 lines" eq "$(wc -l < "$D/seq")" 150
	i=0; bad=0
	while read -r stream level _ n what; do
		[ "$n" = "$i" ] || bad=1
		case $what in
		out) [ "$stream $level" = "stdout info" ] || bad=1 ;;
		err) [ "$stream $level" = "stderr info" ] || bad=1 ;;
		log) [ "$stream $level" = "stdout warn" ] || bad=1 ;;
		esac
		i=$((i + 1))
	done < "$D/seq"
	check "lines in order, with stream and level" eq "$bad" 0
	end
}

t_exception() {
	begin "an exception fails the step with its traceback in the log"
	py_env exception
	job boom '[[jobs.steps]]' 'name = "fail"' 'type = "python"' \
	    'callable = "nftest.steps:raises"' 'kwargs = { msg = "bad input 42" }'
	start_daemon || { T_OK=0; end; return; }
	run_job boom
	check "run failed" eq "$(echo "$SHOW" | jq -r .state)" failed
	check "reason error" eq "$(att reason)" error
	check "error names callable and exception" eq "$(att error)" "nftest.steps:raises raised ValueError: bad input 42"
	logs=$(nf logs "$ID")
	check "traceback header" contains "$logs" "Traceback (most recent call last):"
	check "traceback names the plugin frame" contains "$logs" "in inner"
	check "traceback ends with the exception" contains "$logs" "ValueError: bad input 42"
	check "no runner frames" eval "! printf '%s' \"\$logs\" | grep -q nomaflow_runner"
	end
}

t_bad_return() {
	begin "a return value other than None, int or dict is an error naming its type"
	py_env badret
	job badret '[[jobs.steps]]' 'name = "list"' 'type = "python"' \
	    'callable = "nftest.steps:bad_type"'
	job notjson '[[jobs.steps]]' 'name = "obj"' 'type = "python"' \
	    'callable = "nftest.steps:not_json"'
	job none '[[jobs.steps]]' 'name = "nothing"' 'type = "python"' \
	    'callable = "nftest.steps:returns_none"'
	job missing '[[jobs.steps]]' 'name = "nomod"' 'type = "python"' \
	    'callable = "nftest.nosuch:f"'
	start_daemon || { T_OK=0; end; return; }
	run_job badret
	check "list: failed, error" eq "$(echo "$SHOW" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed error"
	check "list: names the type" contains "$(att error)" "returned list; return None, an int"
	run_job notjson
	check "non-JSON dict fails" contains "$(att error)" "returned a dict that is not JSON"
	run_job none
	check "None succeeds without output" eq "$(echo "$SHOW" | jq -r '"\(.state) \(.attempts[0].output)"')" "succeeded null"
	run_job missing
	check "missing module named" contains "$(att error)" "no module named 'nftest.nosuch' in plugins_dir"
	end
}

t_config() {
	begin "callable and pools are checked at load"
	py_env config
	job c1 '[[jobs.steps]]' 'name = "x"' 'type = "python"' 'callable = "no colon"'
	job c2 '[[jobs.steps]]' 'name = "x"' 'type = "python"' \
	    'callable = "a.b:c"' 'pools = ["nope"]'
	job c3 '[[jobs.steps]]' 'name = "x"' 'type = "python"'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "config rejected" test "$rc" -ne 0
	check "bad callable with position" contains "$out" 'c1.toml:6:12: job "c1": step "x": callable "no colon" must be "package.module:function"'
	check "unknown pool" contains "$out" 'pools[0]: no pool named "nope"'
	check "callable required" contains "$out" 'missing required key "callable"'
	end
}

t_segv() {
	begin "a segfault in C code (ctypes) fails with reason crash SIGSEGV"
	py_env segv
	job segv '[[jobs.steps]]' 'name = "crash"' 'type = "python"' \
	    'callable = "nftest.bad:segfault"'
	start_daemon || { T_OK=0; end; return; }
	run_job segv
	check "run failed" eq "$(echo "$SHOW" | jq -r .state)" failed
	check "reason crash" eq "$(att reason)" crash
	check "signal 11" eq "$(att signal)" 11
	check "error names SIGSEGV and the callable" contains "$(att error)" "python killed by SIGSEGV in nftest.bad:segfault"
	check "faulthandler stack in the log" contains "$(nf logs "$ID")" "Fatal Python error: Segmentation fault"
	check "daemon alive" daemon_alive
	end
}

t_sandbox() {
	need_sandbox "python: blocked syscalls -> reason sandbox" || return 0
	begin "unshare and ptrace from python kill it: reason sandbox naming the policy"
	py_env sandbox
	job unshare '[[jobs.steps]]' 'name = "escape"' 'type = "python"' \
	    'callable = "nftest.bad:unshare"'
	job ptrace '[[jobs.steps]]' 'name = "trace"' 'type = "python"' \
	    'callable = "nftest.bad:ptrace"'
	job eperm '[[jobs.steps]]' 'name = "klog"' 'type = "python"' \
	    'callable = "nftest.bad:denied_errno"'
	start_daemon || { T_OK=0; end; return; }
	for j in unshare ptrace; do
		run_job $j
		check "$j: failed sandbox" eq "$(echo "$SHOW" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed sandbox"
		check "$j: error names the policy" contains "$(att error)" "blocked by policy exec"
		check "$j: not retried" eq "$(echo "$SHOW" | jq -r '.attempts | length')" 1
	done
	run_job eperm
	check "unlisted syscall: EPERM, step goes on" eq "$(echo "$SHOW" | jq -r '"\(.state) \(.attempts[0].output.errno)"')" "succeeded Operation not permitted"
	end
}

t_timeout() {
	begin "a busy loop past its timeout is killed within the grace period"
	py_env timeout
	job spin '[[jobs.steps]]' 'name = "loop"' 'type = "python"' \
	    'timeout_seconds = 4' 'callable = "nftest.steps:loop"'
	start_daemon || { T_OK=0; end; return; }
	t0=$(date +%s%N)
	run_job spin
	t1=$(date +%s%N)
	check "run failed, reason timeout" eq "$(echo "$SHOW" | jq -r '"\(.state) \(.attempts[0].reason)"')" "failed timeout"
	ms=$(( (t1 - t0) / 1000000 ))
	# 4 s: the interpreter must be up and looping before it runs out,
	# even on a loaded machine.
	diag "timeout 4 s + grace 1 s: ended after $ms ms"
	check "ended within timeout + grace (+ slack)" test "$ms" -lt 8000
	check "no interpreter left behind" eval "! pgrep -f \"$T_ROOT/runner/\" >/dev/null"
	check "output before the loop kept" contains "$(nf logs "$ID")" "looping"
	end
}

t_cancel() {
	begin "cancel: ctx.is_cancelled() turns true; the step is canceled"
	py_env cancel
	job polite '[[jobs.steps]]' 'name = "wait"' 'type = "python"' \
	    'callable = "nftest.steps:polite_loop"'
	job spin '[[jobs.steps]]' 'name = "loop"' 'type = "python"' \
	    'callable = "nftest.steps:loop"'
	start_daemon || { T_OK=0; end; return; }
	ID=$(nfj run polite | jq -r .run_id)
	check "running" wait_for 10 sh -c "$NFCTL -s $SOCK logs $ID | grep -q waiting"
	check "cancel accepted" nf cancel "$ID"
	check "run ends" wait_run "$ID" 10
	SHOW=$(nfj run show "$ID")
	check "run canceled" eq "$(echo "$SHOW" | jq -r .state)" canceled
	check "the callable saw the flag" contains "$(nf logs "$ID")" "saw cancel"
	# A busy loop that never looks at the flag is killed.
	ID=$(nfj run spin | jq -r .run_id)
	check "spinning" wait_for 10 sh -c "$NFCTL -s $SOCK logs $ID | grep -q looping"
	t0=$(date +%s%N)
	check "cancel accepted" nf cancel "$ID"
	check "busy loop ends" wait_run "$ID" 10
	ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	diag "busy loop canceled after $ms ms (worker grace 0.5 s, supervisor grace 1 s)"
	check "busy loop run canceled" eq "$(run_state "$ID")" canceled
	check "no interpreter left behind" eval "! pgrep -f \"$T_ROOT/runner/\" >/dev/null"
	end
}

t_survivors() {
	begin "a daemon a python step double-forks and setsid()s dies with the step"
	py_env survivors
	m="300.$$$(date +%N | cut -c1-6)"
	job leave '[[jobs.steps]]' 'name = "d"' 'type = "python"' \
	    'callable = "nftest.steps:leave_daemon"' "kwargs = { seconds = \"$m\" }"
	start_daemon || { T_OK=0; end; return; }
	run_job leave
	check "run succeeded" eq "$(echo "$SHOW" | jq -r .state)" succeeded
	check "the daemon was started" contains "$(nf logs "$ID")" "left a daemon"
	check "no sleep left behind" eval "! pgrep -f '^/bin/sleep $m' >/dev/null"
	check "the log says what was killed" contains "$(nf logs "$ID")" \
	    "left running"
	# A failing run leaves its survivor: end it (unique name) by pid.
	for p in $(pgrep -f "^/bin/sleep $m"); do kill -KILL "$p"; done
	end
}

t_big_input() {
	begin "earlier outputs too big for a python step's input: a clear error, not a protocol one"
	py_env bigin
	# c gets a's and b's outputs, and b's again as prev: 4.5 MB.
	job bigin '[[jobs.steps]]' 'name = "a"' 'type = "python"' \
	    'callable = "nftest.steps:big"' 'kwargs = { mb = 1.5 }' \
	    '[[jobs.steps]]' 'name = "b"' 'type = "python"' \
	    'callable = "nftest.steps:big"' 'kwargs = { mb = 1.5 }' \
	    '[[jobs.steps]]' 'name = "c"' 'type = "python"' \
	    'callable = "nftest.steps:returns_none"'
	start_daemon || { T_OK=0; end; return; }
	run_job bigin
	check "run failed" eq "$(echo "$SHOW" | jq -r .state)" failed
	check "the two producers succeeded" eq "$(echo "$SHOW" | jq -r '[.attempts[0,1].state] | join(",")')" "succeeded,succeeded"
	check "the third: reason error" eq "$(echo "$SHOW" | jq -r '.attempts[2].reason')" error
	check "the error says what is too big and what to do" contains "$(att error 2)" "the outputs of earlier steps) is"
	check "... and the limit" contains "$(att error 2)" "over the 4 MiB a worker accepts; put large data in a file"
	check "daemon alive" daemon_alive
	end
}

ALL="t_outputs t_kwargs t_order t_exception t_bad_return t_config t_segv t_sandbox t_timeout t_cancel t_survivors t_big_input"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
