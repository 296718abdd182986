#!/bin/sh
# retention.sh: history retention through a real nomaflowd and nfctl:
# [retention] and a job's own limits, nfctl prune [--dry-run], a pruned
# log that nfctl logs explains, real runs pruned with their attempts and
# lines, and a daemon killed in the middle of a prune (builds with
# --enable-fault-injection): nothing kept is lost and the pass after the
# restart finishes the job.  History is seeded with sqlite3 while the
# daemon is stopped.  Prints TAP.  Needs jq and sqlite3.
#
#   top_srcdir=... top_builddir=... tests/integration/retention.sh [TEST...]

. "$(dirname "$0")/lib.sh"

for t in jq sqlite3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done

FAULTS=0
strings "$NOMAFLOWD" 2>/dev/null | grep -q NOMAFLOW_FAULT && FAULTS=1

skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2" >&3
}

DAY=86400000
now_ms() { echo $(( $(date +%s) * 1000 )); }

db() { sqlite3 "$D/state/nomaflow.db" "$@"; }

# seed JOB N FIRST_MS STEP_MS: N finished runs of JOB, created from
# FIRST_MS every STEP_MS, each with one attempt and two log lines.
seed() {
	db "PRAGMA foreign_keys = ON;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < $2 - 1)
INSERT INTO runs (job_id, state, \"trigger\", triggered_by, created_at,
    started_at, finished_at)
SELECT '$1', 'succeeded', 'manual', 'user:seed', $3 + i * $4,
    $3 + i * $4, $3 + i * $4 + 10 FROM n;
INSERT INTO attempts (run_id, step_idx, step, type, attempt, state,
    started_at, finished_at)
SELECT id, 0, 's', 'exec', 1, 'succeeded', created_at, finished_at
FROM runs WHERE job_id = '$1' AND id NOT IN (SELECT run_id FROM attempts);
INSERT INTO logs (run_id, ts, step, attempt, stream, level, line)
SELECT id, created_at, 's', 1, 'stdout', 'info', 'first of ' || id
FROM runs WHERE job_id = '$1' AND id NOT IN (SELECT run_id FROM logs);
INSERT INTO logs (run_id, ts, step, attempt, stream, level, line)
SELECT r.id, r.created_at, 's', 1, 'stdout', 'info', 'second of ' || r.id
FROM runs r WHERE r.job_id = '$1'
AND (SELECT count(*) FROM logs l WHERE l.run_id = r.id) = 1;"
}

# A fresh directory, the schema created by one start, then stopped.
prepared_env() {
	new_env "$1"
	job quick '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo line one; echo line two"]'
	start_daemon || return 1
	stop_daemon
}

# run_quick: one run of job quick to its end.
run_quick() {
	_r=$(nfj run quick | jq -r .run_id)
	wait_run "$_r"
	echo "$_r"
}

t_prune_count() {
	begin "runs = N globally and per job: nfctl prune --dry-run counts, nfctl prune prunes, the newest stay"
	prepared_env count || { T_OK=0; end; return; }
	add "$D/nomaflow.toml" <<'EOT'

[retention]
runs = 5
EOT
	job few 'retention = { runs = 2 }' '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' 'argv = ["/bin/true"]'
	seed many 40 1700000000000 1000
	seed few 10 1700000000000 1000
	seed gone 8 1700000000000 1000	# no longer configured: [retention]
	start_daemon || { T_OK=0; end; return; }
	out=$(nf prune --dry-run)
	check "dry run total" contains "$out" "would prune 46 runs"
	check "dry run per job" contains "$out" "many"
	check "dry run changed nothing" eq "$(db 'SELECT count(*) FROM runs')" 58
	out=$(nf prune)
	check "prune total" contains "$out" "pruned 46 runs and the log lines of 0 more (92 log lines)"
	j=$(nfj prune --dry-run)
	check "nothing left" eq "$(printf '%s' "$j" | jq -r .runs)" 0
	check "many keeps 5" eq "$(nfj runs --job many | jq -r length)" 5
	check "few keeps 2" eq "$(nfj runs --job few | jq -r length)" 2
	check "gone keeps 5" eq "$(nfj runs --job gone | jq -r length)" 5
	newest=$(db "SELECT max(id) FROM runs WHERE job_id = 'many'")
	check "the newest run of many is intact" eq \
	    "$(nfj run show "$newest" | jq -r '.attempts | length')" 1
	check "its log is intact" eq "$(nf logs "$newest" | grep -c 'of ')" 2
	check "no orphan attempts" eq "$(db 'SELECT count(*) FROM attempts WHERE run_id NOT IN (SELECT id FROM runs)')" 0
	check "no orphan lines" eq "$(db 'SELECT count(*) FROM logs WHERE run_id NOT IN (SELECT id FROM runs)')" 0
	check "one summary per job in the log" test \
	    "$(grep -c 'retention: pruned 35 runs (70 log lines) of job many' "$D/daemon.log")" -eq 1
	check "the prune is audited" contains "$(nf audit)" prune
	end
}

t_prune_real_runs() {
	begin "real runs of a job with retention = { runs = 2 }: the oldest go with their attempts and lines"
	new_env real
	job quick 'retention = { runs = 2 }' '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo line one; echo line two"]'
	start_daemon || { T_OK=0; end; return; }
	first=$(run_quick)
	run_quick >/dev/null
	run_quick >/dev/null
	last=$(run_quick)
	check "four runs" eq "$(nfj runs --job quick | jq -r length)" 4
	out=$(nf prune)
	check "two pruned" contains "$out" "pruned 2 runs"
	check "two left" eq "$(nfj runs --job quick | jq -r length)" 2
	check "the first is gone" contains "$(nf run show "$first" 2>&1)" "no run"
	check "the last is whole" contains "$(nf logs "$last")" "line two"
	end
}

t_log_days() {
	begin "log_days: old runs keep their row and say their log was pruned; the last run keeps its log"
	prepared_env logs || { T_OK=0; end; return; }
	add "$D/nomaflow.toml" <<'EOT'

[retention]
days = 30
log_days = 2
EOT
	now=$(now_ms)
	# 10 runs, one a day, the newest 5 days ago: all older than 2 days.
	seed old 10 $((now - 14 * DAY)) $DAY
	# A job whose only run is 40 days old keeps it, and its log.
	seed lone 1 $((now - 40 * DAY)) 1
	start_daemon || { T_OK=0; end; return; }
	j=$(nfj prune --dry-run)
	check "dry run: runs" eq "$(printf '%s' "$j" | jq -r .runs)" 0
	check "dry run: logs" eq "$(printf '%s' "$j" | jq -r .logs)" 9
	out=$(nf prune)
	check "prune" contains "$out" "the log lines of 9 more (18 log lines)"
	check "rows kept" eq "$(nfj runs --job old | jq -r length)" 10
	oldest=$(db "SELECT min(id) FROM runs WHERE job_id = 'old'")
	newest=$(db "SELECT max(id) FROM runs WHERE job_id = 'old'")
	out=$(nf logs "$oldest")
	check "pruned log explained" contains "$out" "log pruned by retention on"
	check "by logs -f too" contains "$(nf logs -f "$oldest" 2>&1)" "log pruned by retention on"
	check "run show still works" eq "$(nfj run show "$oldest" | jq -r .state)" succeeded
	check "json says when" test "$(nfj logs "$oldest" | jq -r .log_pruned_at)" -gt 0
	check "newest keeps its log" eq "$(nf logs "$newest" | grep -c 'of ')" 2
	lone=$(db "SELECT id FROM runs WHERE job_id = 'lone'")
	check "a lone old run stays" eq "$(nfj run show "$lone" | jq -r .state)" succeeded
	check "with its log" eq "$(nf logs "$lone" | grep -c 'of ')" 2
	check "summary line" contains "$(cat "$D/daemon.log")" \
	    "retention: pruned the log lines of 9 runs (18 log lines) of job old (1 batch in "
	end
}

t_no_limits() {
	begin "no [retention] and no job limits: nfctl prune prunes nothing"
	prepared_env none || { T_OK=0; end; return; }
	seed many 30 1700000000000 1000
	start_daemon || { T_OK=0; end; return; }
	check "nothing" contains "$(nf prune)" "pruned 0 runs"
	check "all kept" eq "$(db 'SELECT count(*) FROM runs')" 30
	end
}

t_many_jobs() {
	begin "a pass over 150 jobs (more than one callback's share of jobs) prunes each of them"
	prepared_env many || { T_OK=0; end; return; }
	add "$D/nomaflow.toml" <<'EOT'

[retention]
runs = 1
EOT
	db "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 449)
INSERT INTO runs (job_id, state, \"trigger\", triggered_by, created_at)
SELECT printf('job%03d', i % 150), 'succeeded', 'manual', 'user:seed',
    1700000000000 + i FROM n;"
	start_daemon || { T_OK=0; end; return; }
	check "pruned" contains "$(nf prune)" "pruned 300 runs"
	check "one run a job" eq "$(db "SELECT count(*) || ' ' || count(DISTINCT job_id) FROM runs")" "150 150"
	check "the newest of each" eq "$(db 'SELECT min(created_at) FROM runs')" 1700000000300
	end
}

t_bad_config() {
	begin "a bad retention key is a file:line:col error of nomaflowd -n"
	new_env badcfg
	add "$D/nomaflow.toml" <<'EOT'

[retention]
runs = -3
EOT
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "refused" test $? -ne 0
	check "message" contains "$out" "retention.runs must be between 0 and 100000000, not -3"
	check "where" sh -c "printf '%s' '$out' | grep -Eq 'nomaflow.toml:1[12]:8: retention.runs'"
	end
}

t_crash_mid_prune() {
	if [ $FAULTS = 0 ]; then
		skip "killed mid-prune" "nomaflowd built without --enable-fault-injection"
		return
	fi
	begin "killed in the middle of a prune: the committed batch stays, the next pass finishes, nothing kept is lost"
	prepared_env crash || { T_OK=0; end; return; }
	add "$D/nomaflow.toml" <<'EOT'

[retention]
runs = 10
EOT
	seed big 2000 1700000000000 1000
	keep=$(db "SELECT group_concat(id) FROM (SELECT id FROM runs WHERE job_id = 'big' ORDER BY created_at DESC, id DESC LIMIT 10)")
	NOMAFLOW_FAULT=retention_batch:kill:2
	export NOMAFLOW_FAULT
	start_daemon || { unset NOMAFLOW_FAULT; T_OK=0; end; return; }
	unset NOMAFLOW_FAULT
	nf prune >/dev/null 2>&1
	check "the daemon died mid-prune" test $? -ne 0
	wait "$DPID" 2>/dev/null
	DPID=
	n=$(db "SELECT count(*) FROM runs")
	# 500 rows a batch, 4 rows a run: the first batch is committed, the
	# second was not.
	check "one batch committed, the next rolled back" eq "$n" 1875
	check "no orphan lines" eq "$(db 'SELECT count(*) FROM logs WHERE run_id NOT IN (SELECT id FROM runs)')" 0
	check "no orphan attempts" eq "$(db 'SELECT count(*) FROM attempts WHERE run_id NOT IN (SELECT id FROM runs)')" 0
	check "every run has its lines" eq "$(db 'SELECT count(*) FROM logs')" $((n * 2))
	# The pass after start (about 10 s) finishes the prune by itself.
	start_daemon || { T_OK=0; end; return; }
	check "the automatic pass finished" wait_for 40 sh -c \
	    "[ \$(sqlite3 '$D/state/nomaflow.db' 'SELECT count(*) FROM runs') -eq 10 ]"
	got=$(db "SELECT group_concat(id) FROM (SELECT id FROM runs WHERE job_id = 'big' ORDER BY created_at DESC, id DESC)")
	check "the 10 newest are the ones kept" eq "$got" "$keep"
	check "their lines are all there" eq "$(db 'SELECT count(*) FROM logs')" 20
	check "summary logged" contains "$(cat "$D/daemon.log")" "retention: pruned 1865 runs (3730 log lines) of job big"
	end
}

ALL="t_prune_count t_prune_real_runs t_log_days t_no_limits t_many_jobs
t_bad_config t_crash_mid_prune"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
