#!/bin/sh
# flow.sh: templates across steps, `when` conditions, call_job and secret
# redaction, through a real nomaflowd with SQLite pools (sql_query steps
# produce structured outputs) and exec steps.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

# A test directory with a SQLite pool "lite"; extra lines on stdin are
# appended to nomaflow.toml.
flow_env() {
	new_env "$1"
	cat >> "$D/nomaflow.toml" <<EOT

[pools.lite]
driver = "sqlite"
path = "$D/lite.db"
EOT
	cat >> "$D/nomaflow.toml"
}

last_run() { nfj runs --job "$1" | jq -r '.[0].id'; }
att() { nfj run show "$1" | jq -r ".attempts[${3:-0}].$2"; }

# step NAME TYPE LINES...: one [[jobs.steps]] table as lines for job().
sq() { printf '%s\n' '[[jobs.steps]]' "name = \"$1\"" 'type = "sql_query"' 'pool = "lite"' "sql = \"$2\""; }

t_outputs() {
	begin "outputs of earlier steps feed later steps' templates (typed), prev, dates, escapes"
	flow_env outputs </dev/null
	job flow 'timezone = "Pacific/Kiritimati"' 'params = { label = "x" }' \
	    "$(sq mk 'CREATE TABLE t (n int)')" \
	    "$(sq ins 'INSERT INTO t VALUES (1500), (2)')" \
	    "$(sq count 'SELECT max(n) AS n, count(*) AS c FROM t')" \
	    "$(sq typed 'SELECT typeof(:n) AS ty, :n + 1 AS m, :s AS s')" \
	    'params = { n = "${steps.count.output.rows[0].n}", s = "${params.label}-${steps.count.output.rows[0].c}" }' \
	    '[[jobs.steps]]' 'name = "say"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo n=${steps.count.output.rows[0].n} m=${prev.output.rows[0].m} rows=${steps.ins.rows_affected} job=${job.id} run=${run.id} by=${run.triggered_by} y=${yesterday|%Y%m%d}"]' \
	    '[[jobs.steps]]' 'name = "lit"' 'type = "exec"' 'argv = ["/bin/echo", "lit=$${params.label}", "cost=$$5"]'
	start_daemon || { T_OK=0; end; return; }
	check "run succeeds" nf run flow --follow
	id=$(last_run flow)
	show=$(nfj run show "$id")
	check "int param stays an int in SQL params" eq \
	    "$(echo "$show" | jq -c '.attempts[3].output.rows[0]')" '{"ty":"integer","m":1501,"s":"x-2"}'
	logs=$(nf logs "$id")
	y=$(TZ=Pacific/Kiritimati date -d yesterday +%Y%m%d)
	check "exec argv rendered" contains "$logs" "n=1500 m=1501 rows=2 job=flow run=$id by="
	check "yesterday in the job's zone" contains "$logs" "y=$y"
	check "\$\${ and \$\$ are literal" contains "$logs" 'lit=${params.label} cost=$5'
	end
}

t_when() {
	begin "when: true runs, false skips with 'condition false', run params typed, eval error fails"
	flow_env when </dev/null
	job cond 'params = { dry_run = false, env = "prod", limit = 1000 }' \
	    "$(sq count 'SELECT 1500 AS n')" \
	    '[[jobs.steps]]' 'name = "big"' 'type = "exec"' 'argv = ["/bin/echo", "big"]' \
	    'when = "steps.count.output.rows[0].n > params.limit and not params.dry_run"' \
	    '[[jobs.steps]]' 'name = "small"' 'type = "exec"' 'argv = ["/bin/echo", "small"]' \
	    "when = \"steps.count.output.rows[0].n < 10 or params.env in ['dev', 'test']\"" \
	    '[[jobs.steps]]' 'name = "after"' 'type = "exec"' 'argv = ["/bin/echo", "prev=${prev.step}"]'
	job bad "$(sq count 'SELECT 1 AS n')" \
	    '[[jobs.steps]]' 'name = "x"' 'type = "exec"' 'argv = ["/bin/true"]' \
	    'when = "steps.count.output.rows[0].missing > 1"'
	start_daemon || { T_OK=0; end; return; }
	check "job show has the condition" eq "$(nfj job show cond | jq -r '.steps[1].when')" \
	    'steps.count.output.rows[0].n > params.limit and not params.dry_run'
	check "and prints it" contains "$(nf job show cond)" 'when steps.count.output.rows[0].n'
	check "run succeeds" nf run cond --follow
	id=$(last_run cond)
	check "true condition: step ran" eq "$(att "$id" state 1)" succeeded
	check "false condition: skipped" eq "$(att "$id" state 2)" skipped
	check "skip reason" eq "$(att "$id" error 2)" "condition false"
	check "run goes on after a skip" eq "$(att "$id" state 3)" succeeded
	check "prev is the last step that ran" contains "$(nf logs "$id")" "prev=big"
	nf run cond --follow -p dry_run=true >/dev/null 2>&1
	id=$(last_run cond)
	check "-p dry_run=true is a boolean: big skipped" eq "$(att "$id" state 1)" skipped
	nf run bad --follow >/dev/null 2>&1
	id=$(last_run bad)
	check "evaluation error fails the run" eq "$(run_state "$id")" failed
	check "error names the expression and the reference" contains "$(att "$id" error 1)" \
	    'condition when "steps.count.output.rows[0].missing > 1" could not be evaluated: reference steps.count.output.rows[0].missing: no key "missing"'
	end
}

t_load_errors() {
	begin "templating and condition errors are config errors with file:line:col"
	flow_env loaderr </dev/null
	job e1 "$(sq a 'SELECT 1')" \
	    '[[jobs.steps]]' 'name = "b"' 'type = "exec"' 'argv = ["/bin/echo", "${steps.c.output.x}"]' \
	    '[[jobs.steps]]' 'name = "c"' 'type = "exec"' 'argv = ["/bin/echo", "${steps.nope.output}"]' \
	    '[[jobs.steps]]' 'name = "d"' 'type = "exec"' 'argv = ["/bin/echo", "${tomorrow}", "${today|%H}", "${week.sunday}"]' \
	    'when = "steps.a.rows_affected > '"'"'x'"'"'"'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "later step" contains "$out" 'e1.toml:11:25: job "e1": step "b": argv: steps.c.output.x: step "c" runs after this one; only outputs of earlier steps can be used'
	check "unknown step" contains "$out" 'step "c": argv: steps.nope.output: this job has no step "nope" (earlier steps: a, b)'
	check "unknown word: an environment variable" contains "$out" 'environment variable "tomorrow" is not set (set it, or write "${tomorrow:-default}"); run-time templates start with'
	check "unknown helper" contains "$out" 'unknown date helper "week.sunday"'
	check "bad date format" contains "$out" '%H is not allowed'
	check "condition type error with column" contains "$out" \
	    'e1.toml:20:33: job "e1": step "d": when "steps.a.rows_affected > '"'"'x'"'"'": ">" compares two numbers or two strings, not an integer and a string'
	end
}

t_run_errors() {
	begin "templating errors at run time fail the step naming the reference"
	flow_env runerr </dev/null
	job r1 "$(sq a 'SELECT 1 AS n')" \
	    '[[jobs.steps]]' 'name = "b"' 'type = "exec"' 'argv = ["/bin/echo", "${params.day}", "${steps.a.output.rows[3].n}"]'
	# The same job declaring day (a run may only set declared params).
	job r2 'params = { day = "sunday" }' "$(sq a 'SELECT 1 AS n')" \
	    '[[jobs.steps]]' 'name = "b"' 'type = "exec"' 'argv = ["/bin/echo", "${params.day}", "${steps.a.output.rows[3].n}"]'
	start_daemon || { T_OK=0; end; return; }
	nf run r1 --follow >/dev/null 2>&1
	id=$(last_run r1)
	check "run failed" eq "$(run_state "$id")" failed
	check "missing param named" contains "$(att "$id" error 1)" \
	    'template: reference params.day: no parameter "day"'
	nf run r2 --follow -p day=monday >/dev/null 2>&1
	id=$(last_run r2)
	check "missing output path named" contains "$(att "$id" error 1)" \
	    'template: reference steps.a.output.rows[3].n: index [3] out of range'
	end
}

t_call_job() {
	begin "call_job: child run with its own row, params, success and failure"
	flow_env calljob </dev/null
	job child 'params = { v = "none" }' "$(sq q 'SELECT :v AS v, 7 AS n')" 'params = { v = "${params.v}" }'
	job failing '[[jobs.steps]]' 'name = "f"' 'type = "exec"' 'argv = ["/bin/false"]'
	job parent "$(sq one 'SELECT 41 AS n')" \
	    '[[jobs.steps]]' 'name = "call"' 'type = "call_job"' 'job = "child"' \
	    'params = { v = "from-${job.id}-${steps.one.output.rows[0].n}" }' \
	    '[[jobs.steps]]' 'name = "use"' 'type = "exec"' \
	    'argv = ["/bin/echo", "child=${steps.call.output.run_id} v=${steps.call.output.output.rows[0].v}"]'
	job parent2 '[[jobs.steps]]' 'name = "call"' 'type = "call_job"' 'job = "failing"'
	start_daemon || { T_OK=0; end; return; }
	check "parent succeeds" nf run parent --follow
	id=$(last_run parent)
	cid=$(last_run child)
	check "child has its own history row" eq "$(nfj run show "$cid" | jq -r '.trigger + " " + .triggered_by')" \
	    "call_job job:parent@$id"
	check "child got the params" eq "$(nfj run show "$cid" | jq -r .params.v)" from-parent-41
	check "child output used by the next step" contains "$(nf logs "$id")" "child=$cid v=from-parent-41"
	nf run parent2 --follow >/dev/null 2>&1
	id=$(last_run parent2)
	check "child failure fails the parent" eq "$(run_state "$id")" failed
	check "error names the child run" contains "$(att "$id" error)" "called run $(last_run failing) failed"
	end
}

t_call_cycle() {
	begin "call_job cycles: static ones are config errors, dynamic ones fail with the chain"
	flow_env cycle </dev/null
	job a '[[jobs.steps]]' 'name = "c"' 'type = "call_job"' 'job = "b"'
	job b '[[jobs.steps]]' 'name = "c"' 'type = "call_job"' 'job = "a"'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "static cycle" contains "$out" 'call_job cycle: a -> b -> a'
	rm "$D/jobs.d/a.toml" "$D/jobs.d/b.toml"
	job a 'params = { target = "b" }' '[[jobs.steps]]' 'name = "c"' 'type = "call_job"' 'job = "${params.target}"'
	job b '[[jobs.steps]]' 'name = "c"' 'type = "call_job"' 'job = "a"' 'params = { target = "none" }'
	start_daemon || { T_OK=0; end; return; }
	nf run b --follow >/dev/null 2>&1
	id=$(last_run b)
	check "parent failed" eq "$(run_state "$id")" failed
	aid=$(last_run a)
	check "cycle printed with runs" contains "$(att "$aid" error)" \
	    "call_job: no job \"none\""
	nf run a --follow >/dev/null 2>&1
	aid=$(last_run a)
	bid=$(last_run b)
	check "dynamic cycle: chain" contains "$(att "$bid" error)" \
	    "call_job cycle: a (run $aid) -> b (run $bid) -> a"
	check "and the caller fails" eq "$(run_state "$aid")" failed
	end
}

t_call_cancel() {
	begin "canceling the parent cancels the called run"
	flow_env callcancel </dev/null
	job slow '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/sleep", "30"]'
	job top '[[jobs.steps]]' 'name = "c"' 'type = "call_job"' 'job = "slow"' \
	    '[[jobs.steps]]' 'name = "never"' 'type = "exec"' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	nf run top >/dev/null
	id=$(last_run top)
	check "child started" wait_for 5 sh -c "[ \"\$('$NFCTL' -s '$SOCK' --json runs --job slow | jq -r '.[0].state')\" = running ]"
	cid=$(last_run slow)
	check "parent step waits (running)" eq "$(att "$id" state)" running
	check "cancel accepted" nf cancel "$id"
	check "parent ends" wait_run "$id" 10
	check "parent canceled" eq "$(run_state "$id")" canceled
	check "child canceled" eq "$(run_state "$cid")" canceled
	check "child log names the parent" contains "$(nf logs "$cid")" "cancel requested by run $id of job top"
	check "no later step ran" eq "$(nfj run show "$id" | jq '.attempts | length')" 1
	end
}

t_secrets() {
	begin "secret params inserted by templates are *** in logs and history"
	flow_env secrets </dev/null
	job s 'params = { token = "hunter2-SECRET", user = "bob" }' 'secret_params = ["token"]' \
	    '[[jobs.steps]]' 'name = "show"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo auth=${params.token} user=${params.user}; echo err ${params.token} >&2; exit 3"]'
	start_daemon || { T_OK=0; end; return; }
	nf run s --follow -p token=run-given-T0KEN >/dev/null 2>&1
	id=$(last_run s)
	logs=$(nf logs "$id")
	check "log redacted" contains "$logs" "auth=*** user=bob"
	check "stderr redacted" contains "$logs" "err ***"
	check "secret absent from logs" sh -c "! printf '%s' '$logs' | grep -q T0KEN"
	show=$(nfj run show "$id")
	check "params snapshot redacted" eq "$(echo "$show" | jq -r .params.token)" "***"
	check "other params shown" eq "$(echo "$show" | jq -r .params.user)" bob
	check "secret absent from run show" sh -c "! printf '%s' '$show' | grep -q T0KEN"
	check "secret absent from the daemon log" sh -c "! grep -q T0KEN '$D/daemon.log'"
	end
}

ALL="t_outputs t_when t_load_errors t_run_errors t_call_job t_call_cycle t_call_cancel t_secrets"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
