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

ALL="t_cron_preview t_next_multi t_interval_and_seconds_fire t_lone_slot_starts"
TESTS=${*:-$ALL}
set -- $TESTS
echo "1..$#"
for t in $TESTS; do
	$t
done
[ "$T_FAILED" -eq 0 ]
