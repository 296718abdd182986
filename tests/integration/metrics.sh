#!/bin/sh
# metrics.sh: the daemon's metrics through a real daemon and `nfctl
# metrics`: run counters and durations by job, attempts by type and reason,
# the job gauges after enable/disable, a job removed by reload dropping its
# series, skipped fires and scheduler lateness, the permission the command
# needs, and the whole text parsed by the Prometheus client library's
# parser (Debian's python3-prometheus-client, scripts/deps.sh --test).
# Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/metrics.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi

# metric TEXT SERIES: the value of one series (its full name and labels).
metric() {
	printf '%s\n' "$1" | awk -v s="$2" '
	    index($0, s " ") == 1 { print substr($0, length(s) + 2); f = 1 }
	    END { if (!f) print "absent" }'
}

# parses TEXT: the exposition format as Prometheus' own parser reads it,
# and every family's samples consistent (histograms cumulative, +Inf ==
# _count).
parses() {
	_e=$(printf '%s' "$1" | /usr/bin/python3 -c '
import sys
from prometheus_client.parser import text_string_to_metric_families
n = 0
for fam in text_string_to_metric_families(sys.stdin.read()):
    n += 1
    if fam.type != "histogram":
        continue
    groups = {}
    for s in fam.samples:
        key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
        groups.setdefault(key, []).append(s)
    for key, ss in groups.items():
        buckets = [s for s in ss if s.name.endswith("_bucket")]
        count = [s.value for s in ss if s.name.endswith("_count")]
        vals = [b.value for b in buckets]
        assert vals == sorted(vals), (fam.name, key, vals)
        assert buckets[-1].labels["le"] == "+Inf", (fam.name, key)
        assert count == [vals[-1]], (fam.name, key, count, vals)
assert n == 11, n
' 2>&1) && return 0
	printf 'prometheus_client: %s\n' "$_e" | sed 's/^/# /' >&3
	return 1
}

STEP_OK='[[jobs.steps]]
name = "s"
type = "exec"
argv = ["/bin/true"]'

t_counters() {
	begin "runs by job and state, attempts by type and reason, durations"
	new_env counters
	job ok "$STEP_OK"
	job bad 'retry = { attempts = 2, backoff = "fixed", base_seconds = 0 }' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/false"]'
	job slow '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sleep", "0.3"]'
	start_daemon || { T_OK=0; end; return; }
	for j in ok ok bad slow; do
		nf run "$j" --follow >/dev/null 2>&1
	done
	m=$(nf metrics)
	check "exit 0" nf metrics
	check "ok succeeded twice" eq "$(metric "$m" 'nomaflow_runs_total{job="ok",state="succeeded"}')" 2
	check "ok failed never" eq "$(metric "$m" 'nomaflow_runs_total{job="ok",state="failed"}')" 0
	check "bad failed once" eq "$(metric "$m" 'nomaflow_runs_total{job="bad",state="failed"}')" 1
	check "slow succeeded" eq "$(metric "$m" 'nomaflow_runs_total{job="slow",state="succeeded"}')" 1
	check "successful attempts" eq "$(metric "$m" 'nomaflow_step_attempts_total{type="exec",reason="none"}')" 3
	check "failed attempts, retry included" eq "$(metric "$m" 'nomaflow_step_attempts_total{type="exec",reason="error"}')" 2
	check "durations of ok" eq "$(metric "$m" 'nomaflow_run_duration_seconds_count{job="ok"}')" 2
	check "slow not under 0.1 s" eq "$(metric "$m" 'nomaflow_run_duration_seconds_bucket{job="slow",le="0.1"}')" 0
	check "slow under +Inf" eq "$(metric "$m" 'nomaflow_run_duration_seconds_bucket{job="slow",le="+Inf"}')" 1
	sum=$(metric "$m" 'nomaflow_run_duration_seconds_sum{job="slow"}')
	check "slow sum >= 0.3 s" awk -v s="$sum" 'BEGIN { exit !(s >= 0.3 && s < 60) }'
	check "idle queue" eq "$(metric "$m" nomaflow_queue_depth)" 0
	check "no worker left" eq "$(metric "$m" nomaflow_workers_active)" 0
	check "no UI client" eq "$(metric "$m" nomaflow_ui_clients)" 0
	check "jobs enabled" eq "$(metric "$m" 'nomaflow_jobs{enabled="true"}')" 3
	check "jobs disabled" eq "$(metric "$m" 'nomaflow_jobs{enabled="false"}')" 0
	v=$(nfj status | jq -r .version)
	check "build info" eq "$(metric "$m" "nomaflow_build_info{version=\"$v\"}")" 1
	st=$(metric "$m" process_start_time_seconds)
	check "start time: now-ish" awk -v s="$st" -v n="$(date +%s)" \
	    'BEGIN { exit !(s > n - 120 && s < n + 1) }'
	c=$(metric "$m" nomaflow_store_commit_seconds_count)
	check "store commits timed" awk -v c="$c" 'BEGIN { exit !(c > 0) }'
	check "HELP and TYPE" contains "$m" "# TYPE nomaflow_runs_total counter"
	check "histogram TYPE" contains "$m" "# TYPE nomaflow_run_duration_seconds histogram"
	check "parsed by prometheus_client" parses "$m"
	nf job disable ok >/dev/null
	m=$(nf metrics)
	check "jobs enabled after disable" eq "$(metric "$m" 'nomaflow_jobs{enabled="true"}')" 2
	check "jobs disabled after disable" eq "$(metric "$m" 'nomaflow_jobs{enabled="false"}')" 1
	check "--json: the text as a string" eq "$(nfj metrics | jq -r type)" string
	end
}

t_reload() {
	begin "a job removed by reload drops its series; the others keep theirs"
	new_env reload
	job keep "$STEP_OK"
	job gone "$STEP_OK"
	start_daemon || { T_OK=0; end; return; }
	nf run keep --follow >/dev/null 2>&1
	nf run gone --follow >/dev/null 2>&1
	m=$(nf metrics)
	check "gone counted" eq "$(metric "$m" 'nomaflow_runs_total{job="gone",state="succeeded"}')" 1
	rm "$D/jobs.d/gone.toml"
	check "reload" nf reload
	m=$(nf metrics)
	check "gone's counter dropped" eq "$(metric "$m" 'nomaflow_runs_total{job="gone",state="succeeded"}')" absent
	check "gone's histogram dropped" eq "$(metric "$m" 'nomaflow_run_duration_seconds_count{job="gone"}')" absent
	check "keep kept" eq "$(metric "$m" 'nomaflow_runs_total{job="keep",state="succeeded"}')" 1
	check "one job" eq "$(metric "$m" 'nomaflow_jobs{enabled="true"}')" 1
	check "still parses" parses "$m"
	end
}

skipped_seen() {
	_v=$(metric "$(nf metrics)" 'nomaflow_runs_total{job="tick",state="skipped"}')
	[ "$_v" != absent ] && [ "$_v" -ge 1 ]
}

t_scheduled() {
	begin "cron fires: lateness observed, overlap skips counted"
	new_env scheduled
	job tick 'schedule = "@every 1s"' 'overlap = "skip"' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sleep", "2.5"]'
	start_daemon || { T_OK=0; end; return; }
	check "a skipped fire within 6 s" wait_for 6 skipped_seen
	m=$(nf metrics)
	c=$(metric "$m" nomaflow_scheduler_lateness_seconds_count)
	check "lateness observed" awk -v c="$c" 'BEGIN { exit !(c >= 1) }'
	check "lateness under 5 s" eq "$(metric "$m" 'nomaflow_scheduler_lateness_seconds_bucket{le="5"}')" "$c"
	check "parses" parses "$m"
	end
}

t_permission() {
	begin "metrics needs the audit verb"
	new_env perm
	cat >> "$D/nomaflow.toml" <<EOT

[[role]]
name = "viewer"
grants = ["view job:*", "reload"]

[[user]]
name = "root"
roles = ["viewer"]
EOT
	job ok "$STEP_OK"
	start_daemon || { T_OK=0; end; return; }
	out=$(nf metrics 2>&1); rc=$?
	check "view alone: denied (77)" eq "$rc" 77
	check "the message names the verb" contains "$out" "audit"
	sed -i 's/"reload"\]/"reload", "audit"]/' \
	    "$D/nomaflow.toml"
	check "reload" nf reload
	check "audit: allowed" nf metrics
	end
}

ALL="t_counters t_reload t_scheduled t_permission"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
