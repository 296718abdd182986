#!/bin/sh
# schedule.sh: scheduling policies against a real nomaflowd with a
# controllable clock: catch-up after downtime, clock steps, overlap
# policies, dependencies, presets, jitter, enable/disable.  Prints TAP.
#
# The clock is libfaketime, preloaded into nomaflowd only (the worker runs
# through a wrapper that drops it): the daemon's wall clock starts where
# the test says and runs SPEED (10 to 30) times faster, and writing the
# clock file steps it.  Its monotonic clock stays real, so its own timers
# (hello timeouts, grace periods) keep their length.  nfctl and the steps
# run on the real clock.  Needs jq, sqlite3 and libfaketime (Debian
# package libfaketime); skipped without them.
#
#   top_srcdir=... top_builddir=... tests/integration/schedule.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
FAKETIME_LIB=
for f in /usr/lib/*/faketime/libfaketime.so.1 \
    /usr/lib/faketime/libfaketime.so.1 /usr/local/lib/faketime/libfaketime.so.1; do
	[ -f "$f" ] && { FAKETIME_LIB=$f; break; }
done
if [ -z "$FAKETIME_LIB" ]; then
	echo "1..0 # SKIP libfaketime is not installed (scripts/deps.sh --test)"
	exit 0
fi

# 2026-01-01 00:00:00 UTC: every test's day.
DAY=1767225600
SPEED=10

# A test directory whose daemon runs on a fake clock.
fake_env() {
	new_env "$1"
	cat > "$D/worker.sh" <<EOT
#!/bin/sh
unset LD_PRELOAD FAKETIME_TIMESTAMP_FILE FAKETIME_NO_CACHE FAKETIME_DONT_FAKE_MONOTONIC
exec "$WORKER" "\$@"
EOT
	chmod +x "$D/worker.sh"
	echo "path = \"$D/worker.sh\"" >> "$D/nomaflow.toml"
}

# clock HH:MM:SS: (re)set the daemon's clock to that time of DAY.
clock() {
	echo "@2026-01-01 $1 x$SPEED" > "$D/clock.new"
	mv "$D/clock.new" "$D/clock"
}

# clock_at EPOCH: (re)set the daemon's clock to that instant.
clock_at() {
	echo "@$(date -u -d "@$1" '+%Y-%m-%d %H:%M:%S') x$SPEED" > "$D/clock.new"
	mv "$D/clock.new" "$D/clock"
}

# The newest cron slot of a job, read from the store (daemon down).
last_cron_slot() {
	sqlite3 "$D/state/nomaflow.db" "SELECT max(scheduled_for) FROM runs WHERE job_id = '$1' AND \"trigger\" = 'cron'"
}

# hm HH:MM: the slot (epoch seconds) of that time of DAY.
hm() {
	echo $((DAY + ${1%%:*} * 3600 + ${1##*:} * 60))
}

# The daemon alone on the fake clock (monotonic timers stay real).
start_fake() {
	env LD_PRELOAD="$FAKETIME_LIB" FAKETIME_TIMESTAMP_FILE="$D/clock" \
	    FAKETIME_NO_CACHE=1 FAKETIME_DONT_FAKE_MONOTONIC=1 \
	    "$NOMAFLOWD" -d -f "$D/nomaflow.toml" >> "$D/daemon.log" 2>&1 &
	DPID=$!
	wait_for 5 test -S "$SOCK" || {
		diag "daemon did not start:"; sed 's/^/#   /' "$D/daemon.log" >&3
		return 1
	}
	wait_for 5 nf status
}

# Runs of a job as "trigger@slot-state" lines, oldest first.
runs_of() {
	nfj runs --job "$1" --limit 1000 | jq -r \
	    'sort_by(.id) | .[] | "\(.trigger)@\(.scheduled_for)-\(.state)"'
}
nruns() { nfj runs --job "$1" --limit 1000 | jq -r length; }
# Slots of a job's catch-up runs, oldest first, on one line.
catchups() {
	nfj runs --job "$1" --limit 1000 | jq -r \
	    '[sort_by(.id) | .[] | select(.trigger == "catchup") | .scheduled_for] | map(tostring) | join(",")'
}
has_runs() { [ "$(nruns "$1")" -ge "$2" ]; }
slots_of() {
	nfj runs --job "$1" --limit 1000 | jq -r \
	    '[.[] | select(.scheduled_for != null) | .scheduled_for] | sort | map(tostring) | join(",")'
}
# Every slot of a job's runs at most once.
no_dup_slots() {
	_s=$(nfj runs --job "$1" --limit 1000 | jq -r \
	    '[.[] | select(.scheduled_for != null) | .scheduled_for] | (length == (unique | length))')
	[ "$_s" = true ]
}

# ---------------------------------------------------------------------------
t_catchup() {
	begin "daemon down across 3 slots: catchup none, latest, all and the window obeyed exactly, once"
	fake_env catchup
	for p in none latest all; do
		job "cu_$p" 'schedule = "* * * * *"' "catchup = \"$p\"" \
		    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	done
	job cu_win 'schedule = "* * * * *"' 'catchup = "all"' \
	    'catchup_window = "2m"' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	for j in cu_none cu_latest cu_all cu_win; do
		check "$j fired a slot" wait_for 10 has_runs "$j" 1
	done
	stop_daemon
	# The four jobs share their slots: L is the last one that fired.
	L=$(last_cron_slot cu_all)
	for j in cu_none cu_latest cu_win; do
		check "$j fired the same last slot" eq "$(last_cron_slot $j)" "$L"
	done
	# Down from L until L + 3:30: slots L+1m, L+2m, L+3m missed.
	s1=$((L + 60)); s2=$((L + 120)); s3=$((L + 180))
	clock_at $((L + 210))
	start_fake || { T_OK=0; end; return; }
	check "none: nothing caught up" eq "$(catchups cu_none)" ""
	check "latest: only the newest" eq "$(catchups cu_latest)" "$s3"
	check "all: the three in order" eq "$(catchups cu_all)" "$s1,$s2,$s3"
	check "window 2m (from L + 3:30): the last two" eq "$(catchups cu_win)" "$s2,$s3"
	check "all: the catch-up runs one after the other, all succeed" \
	    wait_for 20 eval '[ "$(nfj runs --job cu_all | jq -r "[.[] | select(.trigger == \"catchup\" and .state == \"succeeded\")] | length")" = 3 ]'
	check "all: in slot order, never overlapping" eq "$(nfj runs --job cu_all | jq -r \
	    '[sort_by(.id) | .[] | select(.trigger == "catchup")] | [range(1; length) as $i | .[$i].started_at >= .[$i - 1].finished_at] | all')" true
	check "catch-up logged" grep -q "catchup = all fires 3" "$D/daemon.log"
	stop_daemon
	# Restart at once (the clock a little back): nothing is missed twice.
	clock_at $((L + 220))
	start_fake || { T_OK=0; end; return; }
	sleep 0.5
	check "no second catch-up (latest)" eq "$(catchups cu_latest)" "$s3"
	check "no second catch-up (all)" eq "$(catchups cu_all)" "$s1,$s2,$s3"
	for j in cu_none cu_latest cu_all cu_win; do
		check "$j: every slot once" no_dup_slots "$j"
	done
	end
}

t_clock_steps() {
	begin "clock stepped back then forward: no slot fires twice, none is lost"
	fake_env clock
	job tick 'schedule = "* * * * *"' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	check "00:01 fired" wait_for 5 has_runs tick 1
	# Back to 00:00:10; 60 s later 00:01 has come round again and must
	# not fire again (00:02 is not reached yet).
	clock 00:00:10
	sleep $((60 / SPEED))
	nf status >/dev/null
	check "00:01 not fired again" eq "$(slots_of tick)" "$(hm 00:01)"
	check "reload re-arms from the ledger" nf reload
	check "00:01 not fired again after reload" eq "$(slots_of tick)" "$(hm 00:01)"
	# Forward over 00:02 and 00:03: both fire (the armed one as cron,
	# the one jumped over by the default catchup = latest).
	clock 00:03:30
	check "00:02 and 00:03 fired" wait_for 8 eval '[ "$(nruns tick)" -ge 3 ]'
	check "slots 00:01 00:02 00:03, each once" eq "$(slots_of tick)" \
	    "$(hm 00:01),$(hm 00:02),$(hm 00:03)"
	check "none skipped: the caught-up slot queued behind the late one" \
	    wait_for 8 eval '[ "$(runs_of tick | grep -c -- -succeeded)" -ge 3 ]'
	check "no skipped run" eq "$(runs_of tick | grep -c -- -skipped)" 0
	check "00:02 as cron, 00:03 as catchup" eq \
	    "$(runs_of tick | head -n 3 | cut -d- -f1 | tr '\n' ' ')" \
	    "cron@$(hm 00:01) cron@$(hm 00:02) catchup@$(hm 00:03) "
	# Then time goes on normally.
	check "00:04 fires on time" wait_for 8 eval '[ "$(nruns tick)" -ge 4 ]'
	check "every slot once" no_dup_slots tick
	end
}

t_overlap() {
	begin "overlap skip, queue, allow and cancel_previous each observed in history"
	fake_env overlap
	SPEED=30	# a slot every 2 s; each run lasts 5 s
	for p in skip queue allow cancel_previous; do
		job "ov_$p" 'schedule = "* * * * *"' "overlap = \"$p\"" \
		    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
		    'argv = ["sleep", "5"]'
	done
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	# Slots A (00:01) B (00:02) C (00:03) fall within A's run.
	check "three slots seen" wait_for 10 eval '[ "$(nruns ov_allow)" -ge 3 ]'
	sleep 1.5
	h=$(nfj runs --job ov_skip --limit 10 | jq -c 'sort_by(.id)')
	check "skip: B and C skipped, reason overlap" eq "$(echo "$h" | jq -r '[.[1:3][] | "\(.state)/\(.reason)"] | join(",")')" \
	    "skipped/overlap,skipped/overlap"
	check "skip: the reason names the active run" eq "$(echo "$h" | jq -r '.[1].error')" \
	    "run $(echo "$h" | jq -r '.[0].id') of the job is still active (overlap = skip)"
	q=$(nfj runs --job ov_queue --limit 10 | jq -c 'sort_by(.id)')
	check "queue: B waited for A and then ran" eq "$(echo "$q" | jq -r '(.[1].started_at // 0) >= (.[0].finished_at // 1e20)')" true
	check "queue: C skipped, one already queued" contains "$(echo "$q" | jq -r '.[2].error')" "already queued"
	check "queue: C is skipped/overlap" eq "$(echo "$q" | jq -r '"\(.[2].state)/\(.[2].reason)"')" skipped/overlap
	a=$(nfj runs --job ov_allow --limit 10 | jq -c 'sort_by(.id)')
	check "allow: B started before A finished" eq "$(echo "$a" | jq -r '.[1].started_at < (.[0].finished_at // 1e20)')" true
	check "allow: nothing skipped" eq "$(echo "$a" | jq -r '[.[] | select(.state == "skipped")] | length')" 0
	c=$(nfj runs --job ov_cancel_previous --limit 10 | jq -c 'sort_by(.id)')
	check "cancel_previous: A canceled" wait_for 5 eval '[ "$(nfj run show "$(echo "$c" | jq -r ".[0].id")" | jq -r .state)" = canceled ]'
	check "cancel_previous: B started before A ended" eq "$(echo "$c" | jq -r '.[1].started_at != null')" true
	check "cancel_previous: A's log names the policy" contains \
	    "$(nf logs "$(echo "$c" | jq -r '.[0].id')")" "cancel requested by overlap = cancel_previous"
	check "every slot once" no_dup_slots ov_queue
	end
}

t_jitter() {
	begin "jitter delays each slot reproducibly; scheduled_for stays the slot"
	fake_env jitter
	SPEED=30
	job jit 'schedule = "* * * * *"' 'jitter = "30s"' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	check "two slots fired" wait_for 10 has_runs jit 2
	r=$(nfj runs --job jit | jq -c 'sort_by(.id) | .[0:2]')
	check "slots on the minute" eq "$(echo "$r" | jq -r '[.[] | .scheduled_for % 60] | unique | join(",")')" 0
	for s in $(echo "$r" | jq -r '.[].scheduled_for'); do
		at=$(sed -n "s/^nomaflowd: job jit: next slot $s, fires at //p" "$D/daemon.log" | head -1)
		check "slot $s armed at slot + [0, 30] s" eval '[ -n "$at" ] && [ "$at" -ge "$s" ] && [ "$at" -le $((s + 30)) ]'
		check "slot $s fired no earlier than that" eq "$(echo "$r" | jq -r \
		    ".[] | select(.scheduled_for == $s) | .created_at / 1000 >= ${at:-0}")" true
	done
	offs=$(sed -n 's/^nomaflowd: job jit: next slot \([0-9]*\), fires at \([0-9]*\)$/\2 \1/p' \
	    "$D/daemon.log" | head -3 | awk '{ print $1 - $2 }' | sort -u | wc -l)
	check "the jitter differs between slots" eval '[ "$offs" -gt 1 ]'
	end
}

t_dependency() {
	begin "after: a dependency chain fires with triggered_by job:X@RUN; after_on always"
	new_env deps
	job a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	job b 'after = ["a"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["sh", "-c", "exit 4"]'
	job c 'after = ["b"]' 'after_on = "always"' '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' 'argv = ["true"]'
	job d 'after = ["b"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["true"]'
	start_daemon || { T_OK=0; end; return; }
	ra=$(nfj run a | jq -r .run_id)
	check "b fired after a" wait_for 10 has_runs b 1
	rb=$(nfj runs --job b | jq -r '.[0].id')
	check "b: trigger dependency by job:a@$ra" eq \
	    "$(nfj run show "$rb" | jq -r '"\(.trigger) \(.triggered_by)"')" "dependency job:a@$ra"
	wait_run "$rb"
	check "c fired after b failed (after_on = always)" wait_for 10 has_runs c 1
	check "c: by job:b@$rb" eq "$(nfj runs --job c | jq -r '.[0].triggered_by')" "job:b@$rb"
	sleep 0.3
	check "d not fired (b failed, after_on = success)" eq "$(nruns d)" 0
	check "job show lists after" eq "$(nfj job show c | jq -r '"\(.after | join(",")) \(.after_on)"')" "b always"
	end
}

t_cycle() {
	begin "a dependency cycle is rejected at load with the cycle printed"
	new_env cycle
	job x 'after = ["z"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	job y 'after = ["x"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	job z 'after = ["y"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	job w 'after = ["nope"]' '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "nomaflowd -n fails" eq "$rc" 1
	check "unknown job named with its position" contains "$out" "w.toml:3:"
	check "unknown job named" contains "$out" 'no job "nope"'
	rm "$D/jobs.d/w.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "the cycle is printed" contains "$out" "dependency cycle x -> z -> y -> x"
	end
}

t_presets() {
	begin "presets: params, step overrides and toggles, own schedule, run --preset recorded"
	fake_env presets
	job p 'params = { mode = "inc", n = 1 }' \
	    '[[jobs.steps]]' 'name = "show"' 'type = "exec"' \
	    'argv = ["sh", "-c", "echo mode=$NOMAFLOW_PARAM_MODE n=$NOMAFLOW_PARAM_N"]' \
	    '[[jobs.steps]]' 'name = "extra"' 'type = "exec"' 'argv = ["true"]' \
	    '[[jobs.presets]]' 'name = "full"' 'description = "everything"' \
	    'params = { mode = "full" }' \
	    'steps = { extra = { enabled = false }, show = { argv = ["sh", "-c", "echo FULL mode=$NOMAFLOW_PARAM_MODE n=$NOMAFLOW_PARAM_N"] } }' \
	    '[[jobs.presets]]' 'name = "nightly"' 'schedule = "* * * * *"' \
	    'params = { mode = "night" }'
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	id=$(nfj run p --preset full | jq -r .run_id)
	wait_run "$id"
	show=$(nfj run show "$id")
	check "run records the preset" eq "$(echo "$show" | jq -r .preset)" full
	check "preset params and step override" contains "$(nf logs "$id")" "FULL mode=full n=1"
	check "step toggled off" eq "$(echo "$show" | jq -r '[.attempts[] | "\(.step):\(.state)"] | join(",")')" "show:succeeded,extra:skipped"
	check "human run show names it" contains "$(nf run show "$id")" "preset:"
	check "nfctl runs has a preset column" eq "$(nf runs --job p | awk -v id="$id" \
	    'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "PRESET") c = i }
	    NR > 1 && $1 == id { print $c }')" full
	check "and --json the preset" eq "$(nfj runs --job p | jq -r --argjson id "$id" \
	    '.[] | select(.id == $id) | .preset')" full
	out=$(nf run p --preset nope 2>&1); rc=$?
	check "unknown preset: exit 2" eq "$rc" 2
	check "unknown preset named" contains "$out" 'no preset "nope"'
	check "the preset's own schedule fired" wait_for 20 eval \
	    '[ "$(nfj runs --job p | jq -r "[.[] | select(.preset == \"nightly\" and .trigger == \"cron\" and .state != \"skipped\")] | length")" -ge 1 ]'
	n=$(nfj runs --job p | jq -r '[.[] | select(.preset == "nightly" and .state != "skipped")][0].id')
	wait_run "$n"
	check "scheduled preset run used its params" contains "$(nf logs "$n")" "mode=night"
	check "job show lists presets" eq "$(nfj job show p | jq -r '[.presets[].name] | join(",")')" "full,nightly"
	end
}

t_disable() {
	begin "job disable stops scheduled fires, persists across restart and reload; enable catches up; audited"
	fake_env disable
	SPEED=30	# a slot every 2 s
	job dj 'schedule = "* * * * *"' \
	    '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["true"]'
	clock 00:00:30
	start_fake || { T_OK=0; end; return; }
	check "fires while enabled" wait_for 5 has_runs dj 1
	check "nfctl job disable" nf job disable dj
	n=$(nruns dj)
	check "jobs shows it disabled" eq "$(nfj jobs | jq -r '.[] | select(.id == "dj") | .enabled')" false
	check "no next fire while disabled" eq "$(nfj jobs | jq -r '.[] | select(.id == "dj") | .next_fire')" null
	sleep $((60 / SPEED * 2))
	check "no scheduled fire while disabled" eq "$(nruns dj)" "$n"
	check "manual runs still work" eval 'nf run dj >/dev/null'
	n=$((n + 1))
	check "reload keeps it disabled" nf reload
	stop_daemon
	clock 00:05:30
	start_fake || { T_OK=0; end; return; }
	sleep $((60 / SPEED * 2))
	check "still disabled after restart" eq "$(nfj jobs | jq -r '.[] | select(.id == "dj") | .enabled')" false
	check "no fire after restart" eq "$(nruns dj)" "$n"
	check "nfctl job enable" nf job enable dj
	check "enable catches up the latest missed slot" wait_for 5 eval \
	    '[ "$(nfj runs --job dj | jq -r "[.[] | select(.trigger == \"catchup\")] | length")" = 1 ]'
	check "and fires on schedule again" wait_for 8 eval \
	    '[ "$(nfj runs --job dj | jq -r "[.[] | select(.trigger == \"cron\")] | length")" -ge 2 ]'
	check "every slot once" no_dup_slots dj
	a=$(sqlite3 "$D/state/nomaflow.db" "SELECT action || ':' || target || ':' || result FROM audit WHERE action LIKE 'job.%' ORDER BY id")
	check "toggles audited" eq "$(echo $a)" "job.disable:dj:ok job.enable:dj:ok"
	out=$(nf job disable nosuch 2>&1); rc=$?
	check "unknown job: exit 2" eq "$rc" 2
	end
}

ALL="t_catchup t_clock_steps t_overlap t_jitter t_dependency t_cycle t_presets t_disable"
TESTS=${*:-$ALL}
set -- $TESTS
echo "1..$#"
for t in $TESTS; do
	SPEED=10
	$t
done
[ "$T_FAILED" -eq 0 ]
