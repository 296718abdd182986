#!/bin/sh
# cron.sh: the cron dialect through a real nomaflowd: nfctl cron (preview
# computed by the daemon, DST flags, errors), nfctl next over several
# schedules with their own zones, and a job with an interval and a
# seconds-level schedule firing each slot once.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/cron.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi

STEP='[[jobs.steps]]
name = "s"
type = "exec"
argv = ["/bin/true"]'

t_cron_preview() {
	begin "nfctl cron: fires, DST flags, --from, --tz, errors"
	new_env cron_preview
	job manual "$STEP"
	start_daemon || { T_OK=0; end; return; }
	out=$(nfj cron '30 2 * * *' --tz America/New_York --from 2026-03-07 -n 3)
	check "three fires" eq "$(echo "$out" | jq -r length)" 3
	check "the gap day fires at 03:00 EDT, flagged" eq \
	    "$(echo "$out" | jq -r '.[1] | "\(.local) \(.offset) \(.zone) \(.flags | join(","))"')" \
	    "2026-03-08 03:00:00 -04:00 EDT dst-gap"
	check "UTC and epoch agree" eq "$(echo "$out" | jq -r '.[1] | "\(.at) \(.utc)"')" \
	    "1772953200 2026-03-08T07:00:00.000Z"
	out=$(nfj cron '*/30 1 * * *' --tz America/New_York --from '2026-11-01' -n 5)
	check "both passes of the repeated hour, flagged" eq \
	    "$(echo "$out" | jq -r '[.[] | select(.flags == ["dst-repeat"])] | length')" 4
	out=$(nf cron '0 2 * * *' --tz Europe/Paris --from 2026-03-29 -n 2)
	check "human output names the DST gap" contains "$out" "DST gap: moved"
	check "and explains it" contains "$out" "first instant after the gap"
	out=$(nfj cron '0 0 0 L * *' --from '2026-02-01T00:00:00Z' -n 2)
	check "six fields, L, UTC by default" eq "$(echo "$out" | jq -r '[.[].utc] | join(" ")')" \
	    "2026-02-28T00:00:00.000Z 2026-03-31T00:00:00.000Z"
	out=$(nfj cron '@every 90s' --from @1767225601 -n 2)
	check "@every is epoch-aligned" eq "$(echo "$out" | jq -r '[.[].at] | join(" ")')" \
	    "1767225690 1767225780"
	out=$(nfj cron '0 0 31 2 *' -n 2)
	check "a never-matching expression gives no fire" eq "$(echo "$out" | jq -r length)" 0
	out=$(nf cron '0 25 * * *' 2>&1); rc=$?
	check "bad expression: exit 64" eq "$rc" 64
	check "names field, token, column" contains "$out" \
	    '"0 25 * * *", column 3: hour: "25" is out of range 0-23'
	out=$(nf cron '* * * * *' --tz Mars/Olympus 2>&1); rc=$?
	check "unknown zone: exit 64" eq "$rc" 64
	out=$(nf cron '* * * * *' --from yesterday 2>&1); rc=$?
	check "bad --from: exit 64" eq "$rc" 64
	end
}

t_next_multi() {
	begin "nfctl next: earliest over several schedules, each in its zone"
	new_env next_multi
	job multi 'schedule = ["0 3 * * *", "30 2 * * *"]' \
	    'timezone = "Europe/Paris"' \
	    '[[jobs.schedules]]' 'cron = "0 12 * * *"' \
	    'timezone = "Asia/Kathmandu"' \
	    '[[jobs.schedules]]' 'every = "6h"' "$STEP"
	start_daemon || { T_OK=0; end; return; }
	out=$(nfj next multi -n 12)
	check "twelve fires" eq "$(echo "$out" | jq -r length)" 12
	check "strictly increasing" eq \
	    "$(echo "$out" | jq -r '[.[].at] | . == (sort | unique)')" true
	check "each schedule appears" eq \
	    "$(echo "$out" | jq -r '[.[].schedule] | unique | join("|")')" \
	    "0 12 * * *|0 3 * * *|30 2 * * *|@every 6h"
	check "Kathmandu noon is local 12:00 +05:45" eq \
	    "$(echo "$out" | jq -r '[.[] | select(.schedule == "0 12 * * *")][0] | "\(.local | .[11:]) \(.offset) \(.timezone)"')" \
	    "12:00:00 +05:45 Asia/Kathmandu"
	check "the interval is on 6-hour UTC boundaries" eq \
	    "$(echo "$out" | jq -r '[.[] | select(.schedule == "@every 6h") | .at % 21600] | unique | join(",")')" 0
	check "jobs shows the first schedule" eq \
	    "$(nfj jobs | jq -r '.[] | select(.id == "multi") | .schedule')" "0 3 * * *"
	out=$(nf next multi -n 3)
	check "human output has a SCHEDULE column" contains "$out" "SCHEDULE"
	end
}

# Every slot of a job's runs at most once, as "slot,slot,...".
slots_of() {
	nfj runs --job "$1" --limit 1000 | jq -r \
	    '[.[] | select(.scheduled_for != null) | .scheduled_for] | sort | map(tostring) | join(",")'
}

t_interval_and_seconds_fire() {
	begin "every = \"2s\" and \"*/3 * * * * *\" together: each slot once"
	new_env interval_fire
	job tick 'every = "2s"' 'schedules = [{ cron = "*/3 * * * * *" }]' \
	    'overlap = "allow"' "$STEP"
	start_daemon || { T_OK=0; end; return; }
	sleep 8
	s=$(slots_of tick)
	diag "slots: $s"
	n=$(echo "$s" | tr ',' '\n' | grep -c .)
	check "several slots fired" test "$n" -ge 4
	check "no slot twice" eq "$(echo "$s" | tr ',' '\n' | sort | uniq -d | wc -l)" 0
	bad=$(echo "$s" | tr ',' '\n' | awk '$1 % 2 != 0 && $1 % 3 != 0' | wc -l)
	check "every slot is a multiple of 2 s or 3 s" eq "$bad" 0
	first=$(echo "$s" | cut -d, -f1)
	last=$(echo "$s" | tr ',' '\n' | tail -1)
	want=$(awk -v a="$first" -v b="$last" 'BEGIN { for (t = a; t <= b; t++)
	    if (t % 2 == 0 || t % 3 == 0) n++; print n }')
	check "no slot between the first and the last was lost" eq "$n" "$want"
	end
}

# The run of a slot starts from the next loop iteration (run.c): it must
# start even when the slot was the only event the daemon had coming.
lone_state() { nfj runs --job lone | jq -r '.[0].state // "none"'; }
t_lone_slot_starts() {
	begin "a slot with nothing else due still starts its run"
	new_env lone_slot
	at=$(($(date +%s) + 6))
	job lone "schedule = \"$(date -u -d "@$at" '+%-S %-M %-H %-d %-m *')\"" \
	    "$STEP"
	start_daemon || { T_OK=0; end; return; }
	check "the run succeeds" wait_for 30 eval '[ "$(lone_state)" = succeeded ]'
	check "of that slot" eq "$(nfj runs --job lone | jq -r '.[0].scheduled_for')" "$at"
	end
}

# Many slots due in the same second (scheduler.c's burst): every row is
# written before any run of the slot starts; a job with two sources due
# together, one with an active run (overlap), one disabled at run time and
# a dependent job each behave as when their slot came alone.
slot_rows() {
	nfj runs --limit 1000 | jq -c --argjson t "$1" \
	    '[.[] | select(.scheduled_for == $t)]'
}
# slot_settled SLOT N: at least N rows of the slot, none active (one read).
slot_settled() {
	_r=$(slot_rows "$1")
	[ "$(echo "$_r" | jq '[.[] | select(.state == "queued" or .state == "running")] | length')" -eq 0 ] &&
	    [ "$(echo "$_r" | jq length)" -ge "$2" ]
}
t_burst_rows_first() {
	begin "200 slots in one second: rows first, each once; overlap, toggle, after"
	new_env burst
	at=$(($(date +%s) + 8))
	due=$(date -u -d "@$at" '+%-S %-M %-H %-d %-m *')
	for i in $(seq 100 299); do
		job "b$i" "schedule = \"$due\"" "$STEP"
	done
	job both "schedule = \"$due\"" "$STEP" '[[jobs.presets]]' \
	    'name = "p"' "schedule = \"$due\""
	job busy "schedule = \"$due\"" 'overlap = "skip"' '[[jobs.steps]]' \
	    'name = "s"' 'type = "exec"' 'argv = ["sleep", "30"]'
	job off "schedule = \"$due\"" "$STEP"
	job dep 'after = ["b100"]' "$STEP"
	start_daemon || { T_OK=0; end; return; }
	busy=$(nfj run busy | jq -r .run_id)
	check "disable one job at run time" nf job disable off
	check "the slot came and its runs ended" wait_for 40 slot_settled "$at" 202
	rows=$(slot_rows "$at")
	check "one row per scheduled job" eq "$(echo "$rows" | jq -r \
	    '[.[] | select(.job_id | test("^b[0-9]")) | .job_id] | unique | length'),$(echo "$rows" | jq -r 'length')" "200,202"
	check "every b run succeeded" eq "$(echo "$rows" | jq -r \
	    '[.[] | select(.job_id | test("^b[0-9]")) | .state] | unique | join(",")')" succeeded
	check "every row written before the first run started" eq "$(echo "$rows" | jq -r \
	    '([.[].created_at] | max) <= ([.[] | .started_at // empty] | min)')" true
	check "every row within the second of its slot" eq "$(echo "$rows" | jq -r --argjson t "$at" \
	    '[.[].created_at] | all(. >= $t * 1000 and . < $t * 1000 + 1000)')" true
	check "two sources due together: one run, with the preset" eq "$(echo "$rows" | jq -r \
	    '[.[] | select(.job_id == "both") | .preset // "none"] | join(",")')" p
	check "active run: the slot is skipped (overlap)" eq "$(echo "$rows" | jq -r \
	    '[.[] | select(.job_id == "busy") | "\(.state)/\(.reason)"] | join(",")')" skipped/overlap
	check "disabled job: no row" eq "$(echo "$rows" | jq -r \
	    '[.[] | select(.job_id == "off")] | length')" 0
	b100=$(echo "$rows" | jq -r '.[] | select(.job_id == "b100") | .id')
	check "after: the dependent fired" wait_for 20 eval \
	    '[ "$(nfj runs --job dep | jq -r ".[0].triggered_by")" = "job:b100@$b100" ]'
	nf cancel "$busy" >/dev/null 2>&1
	end
}

# nomaflowd -n -v prints every scheduling key, defaults filled in, as TOML
# that loads back to the same configuration.
t_dump_schedule_keys() {
	begin "nomaflowd -n -v: schedules, policies, after, presets; dump loads back"
	new_env dump
	job up 'schedule = "0 3 * * *"' "$STEP"
	job j 'schedule = ["*/3 * * * * *"]' 'every = "2s"' \
	    'every_anchor = 2026-01-01T00:00:01Z' 'timezone = "Europe/Paris"' \
	    'overlap = "queue"' 'catchup = "all"' 'catchup_window = "2h"' \
	    'jitter = "30s"' 'after = ["up"]' 'after_on = "always"' \
	    'on_interrupt = "retry"' '[[jobs.schedules]]' 'cron = "0 9 * * 1"' \
	    'timezone = "America/New_York"' "$STEP" '[[jobs.presets]]' \
	    'name = "full"' 'params = { mode = "full" }' \
	    'steps = { s = { enabled = false } }' '[[jobs.presets]]' \
	    'name = "nightly"' 'schedule = "0 2 * * *"' 'timezone = "Asia/Tokyo"'
	out=$("$NOMAFLOWD" -n -v -f "$D/nomaflow.toml" 2>/dev/null)
	for want in 'overlap = "queue"' 'catchup = "all"' 'catchup_window = 7200' \
	    'jitter = 30' 'after = ["up"]' 'after_on = "always"' \
	    'on_interrupt = "retry"' '{ cron = "*/3 * * * * *" }' \
	    '{ every = "2s", every_anchor = 2026-01-01T00:00:01Z }' \
	    '{ cron = "0 9 * * 1", timezone = "America/New_York" }' \
	    'steps = { s = { enabled = false } }' 'timezone = "Asia/Tokyo"'; do
		check "-n -v prints $want" contains "$out" "$want"
	done
	check "defaults of a plain job" contains "$(echo "$out" | sed -n '/id = "up"/,/jobs.steps/p')" \
	    'overlap = "skip"
catchup = "latest"
catchup_window = 3600
jitter = 0
after = []
after_on = "success"
on_interrupt = "fail"'
	check "presets follow the steps" eq "$(echo "$out" | grep -c '^\[\[jobs.presets\]\]')" 2
	mkdir -p "$D/again/jobs.d"
	sed 's|^jobs_dir = .*|jobs_dir = "again/jobs.d"|' "$D/nomaflow.toml" > "$D/again.toml"
	echo "$out" | sed -n '/^\[\[jobs\]\]/,$p' > "$D/again/jobs.d/all.toml"
	out2=$("$NOMAFLOWD" -n -v -f "$D/again.toml" 2>/dev/null)
	check "the dump loads back to the same jobs" eq \
	    "$(echo "$out2" | sed -n '/^\[\[jobs\]\]/,$p')" \
	    "$(echo "$out" | sed -n '/^\[\[jobs\]\]/,$p')"
	end
}

ALL="t_cron_preview t_next_multi t_interval_and_seconds_fire t_lone_slot_starts t_burst_rows_first t_dump_schedule_keys"
TESTS=${*:-$ALL}
set -- $TESTS
echo "1..$#"
for t in $TESTS; do
	$t
done
[ "$T_FAILED" -eq 0 ]
