#!/bin/sh
# acl.sh: roles, permissions and the audit trail through a real daemon and
# real unix users.  Creates two users and three groups (useradd/groupadd,
# names ending in the pid), lets them reach the control socket through its
# group, runs nfctl as them with runuser, and checks every verb allowed and
# denied as configured, exit code 77, the audit rows, what a restricted
# user sees, and reloads that break or change the role tables.  Needs
# root; skips otherwise.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/acl.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (creates unix users)"
	exit 0
fi
for c in useradd userdel groupadd groupdel runuser; do
	if ! command -v $c >/dev/null 2>&1; then
		echo "1..0 # SKIP $c is not installed"
		exit 0
	fi
done

# Short names: useradd limits them to 32 characters.
SG=nfsock_$$		# the socket's group: both users
OG=nfops_$$		# bound to runner and auditor: alice
XG=nfnone_$$		# bound to nothing
ALICE=nfal_$$
BOB=nfbo_$$
MALLORY=nfma_$$		# not in the socket's group

cleanup_acl() {
	for u in "$ALICE" "$BOB" "$MALLORY"; do
		userdel "$u" 2>/dev/null
	done
	for g in "$SG" "$OG" "$XG"; do
		groupdel "$g" 2>/dev/null
	done
	cleanup_all
}
trap cleanup_acl EXIT

if ! { groupadd "$SG" && groupadd "$OG" && groupadd "$XG" &&
    useradd -M -N -g "$XG" -G "$SG,$OG" -s /bin/sh "$ALICE" &&
    useradd -M -N -g "$XG" -G "$SG" -s /bin/sh "$BOB" &&
    useradd -M -N -g "$XG" -s /bin/sh "$MALLORY"; } >/dev/null 2>&1; then
	echo "1..0 # SKIP cannot create test users and groups"
	exit 0
fi

# The test users must reach the socket and run nfctl: the tree is
# traversable, the state directory belongs to the socket's group, and
# nfctl is copied out of a build directory they may not be able to read.
chmod 0711 "$T_ROOT"
mkdir -p "$T_ROOT/bin"
cp "$NFCTL" "$T_ROOT/bin/nfctl"
chmod 0755 "$T_ROOT/bin" "$T_ROOT/bin/nfctl"
UCTL=$T_ROOT/bin/nfctl

# as USER ARGS...: nfctl as that user; stdout+stderr, exit code kept.
as() {
	_u=$1; shift
	runuser -u "$_u" -- "$UCTL" -s "$SOCK" "$@" 2>&1
}
asj() {
	_u=$1; shift
	runuser -u "$_u" -- "$UCTL" -s "$SOCK" --json "$@" 2>/dev/null
}

ALICE_UID=$(id -u "$ALICE")

roles_base() {
	cat <<EOT

[control]
group = "$SG"
mode = "0660"

[[role]]
name = "runner"
grants = ["run job:nightly-*", "cancel job:nightly-*"]

[[role]]
name = "finance"
grants = ["view tag:finance"]

[[role]]
name = "auditor"
grants = ["audit", "reload"]

[[user]]
name = "$BOB"
roles = ["finance"]

[[group]]
name = "$OG"
roles = ["runner", "auditor"]
EOT
}

setup() {
	new_env "$1"
	chmod 0711 "$D"
	mkdir -p "$D/state"
	chgrp "$SG" "$D/state"
	chmod 0750 "$D/state"
	cp "$D/nomaflow.toml" "$D/base.toml"
	roles_base >> "$D/nomaflow.toml"
	job nightly-a '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/echo", "a"]'
	job nightly-b '[[jobs.steps]]' 'name = "s"' 'type = "exec"' \
	    'argv = ["/bin/sleep", "30"]'
	job report 'tags = ["finance"]' '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' 'argv = ["/bin/echo", "report"]'
	job payroll 'tags = ["hr"]' 'secret_params = ["token"]' \
	    'params = { token = "" }' '[[jobs.steps]]' 'name = "s"' \
	    'type = "exec"' 'argv = ["/bin/echo", "pay"]'
}

# ---------------------------------------------------------------------------
t_verbs() {
	begin "every verb allowed or denied as the roles say; exit 77; denials name identity, verb and target"
	setup verbs
	start_daemon || { T_OK=0; end; return; }
	check "socket is in the operators' group" eq \
	    "$(stat -c %G "$SOCK")" "$SG"

	out=$(as "$ALICE" run nightly-a); rc=$?
	check "alice may run nightly-a" eq "$rc" 0
	out=$(as "$ALICE" run report); rc=$?
	check "alice may not run report: 77" eq "$rc" 77
	check "denial names identity, verb, target and the grant" contains \
	    "$out" "permission denied: user $ALICE (uid $ALICE_UID) may not run job report; ask an admin for a role with 'run job:report'"
	out=$(as "$BOB" run report); rc=$?
	check "bob (view only) may not run report" eq "$rc" 77
	out=$(as "$BOB" run nightly-a); rc=$?
	check "bob may not run nightly-a" eq "$rc" 77
	out=$(as "$BOB" run no-such-job); rc=$?
	check "an unknown job is denied, not revealed" eq "$rc" 77

	check "bob may show report" as "$BOB" job show report
	out=$(as "$BOB" job show payroll); rc=$?
	check "bob may not show payroll" eq "$rc" 77
	out=$(as "$BOB" next nightly-a); rc=$?
	check "bob may not preview nightly-a's fires" eq "$rc" 77
	check "alice may show nightly-b (run implies view)" as "$ALICE" job show nightly-b

	out=$(as "$BOB" job disable report); rc=$?
	check "bob may not disable report" eq "$rc" 77
	check "denial names the enable verb" contains "$out" "may not enable job report"
	out=$(as "$ALICE" job disable nightly-a); rc=$?
	check "alice may not disable nightly-a" eq "$rc" 77
	check "root may disable report (built-in admin)" nf job disable report
	check "root may enable report" nf job enable report

	# cancel: on the job of the run.
	nb=$(asj "$ALICE" run nightly-b | jq -r .run_id)
	check "alice started nightly-b" test "$nb" -gt 0
	out=$(as "$BOB" cancel "$nb"); rc=$?
	check "bob may not cancel alice's nightly-b run" eq "$rc" 77
	check "cancel denial names the run and its job" contains "$out" \
	    "may not cancel run $nb of job nightly-b"
	out=$(as "$ALICE" cancel "$nb"); rc=$?
	check "alice may cancel it" eq "$rc" 0
	wait_run "$nb"

	out=$(as "$BOB" reload); rc=$?
	check "bob may not reload" eq "$rc" 77
	check "reload denial" contains "$out" "may not reload; ask an admin for a role with 'reload'"
	out=$(as "$ALICE" reload); rc=$?
	check "alice may reload" eq "$rc" 0
	out=$(as "$BOB" validate); rc=$?
	check "validate needs reload too" eq "$rc" 77
	out=$(as "$BOB" pool test x); rc=$?
	check "pool test needs admin" eq "$rc" 77
	out=$(as "$ALICE" prune --dry-run); rc=$?
	check "prune needs admin, even a dry run (alice may reload)" eq "$rc" 77
	check "prune denial" contains "$out" "may not prune; ask an admin for a role with 'admin'"
	check "root may prune (built-in admin)" nf prune --dry-run
	out=$(as "$BOB" audit); rc=$?
	check "bob may not read the audit" eq "$rc" 77
	check "alice may read the audit" as "$ALICE" audit
	check "anyone connected may ask status" as "$BOB" status
	check "status says who bob is" contains "$(as "$BOB" status)" \
	    "user $BOB (uid $(id -u "$BOB")); roles: finance"
	check "status lists alice's roles through her group" contains \
	    "$(as "$ALICE" status)" "roles: runner, auditor"
	check "anyone connected may preview a cron expression" \
	    as "$BOB" cron "0 3 * * *"

	out=$(as "$MALLORY" status); rc=$?
	check "a user outside the socket's group cannot connect: 77" eq "$rc" 77
	check "daemon alive" daemon_alive
	end
}

t_views() {
	begin "a restricted user sees only the jobs and runs it may view"
	setup views
	start_daemon || { T_OK=0; end; return; }
	for j in nightly-a report payroll report; do
		id=$(nfj run "$j" | jq -r .run_id)
		wait_run "$id"
	done
	pay=$(nfj runs --job payroll | jq -r '.[0].id')
	rep=$(nfj runs --job report | jq -r '.[0].id')
	check "root sees every job" eq "$(nfj jobs | jq -r '[.[].id] | sort | join(",")')" \
	    "nightly-a,nightly-b,payroll,report"
	check "alice sees the nightly jobs" eq \
	    "$(asj "$ALICE" jobs | jq -r '[.[].id] | sort | join(",")')" "nightly-a,nightly-b"
	check "bob sees report" eq "$(asj "$BOB" jobs | jq -r '[.[].id] | join(",")')" report
	check "root sees 4 runs" eq "$(nfj runs | jq -r length)" 4
	check "alice sees only nightly runs" eq \
	    "$(asj "$ALICE" runs | jq -r '[.[].job_id] | unique | join(",")')" nightly-a
	check "bob sees only report runs" eq \
	    "$(asj "$BOB" runs | jq -r '[.[].job_id] | join(",")')" "report,report"
	check "bob's limit counts visible runs" eq \
	    "$(asj "$BOB" runs --limit 1 | jq -r '[.[].job_id] | join(",")')" report
	out=$(as "$BOB" runs --job payroll); rc=$?
	check "bob may not list payroll's runs" eq "$rc" 77
	out=$(as "$BOB" run show "$pay"); rc=$?
	check "bob may not show a payroll run" eq "$rc" 77
	out=$(as "$BOB" logs "$pay"); rc=$?
	check "bob may not read a payroll run's log" eq "$rc" 77
	check "bob may show a report run" as "$BOB" run show "$rep"
	check "bob may read its log" contains "$(as "$BOB" logs "$rep")" report
	# "may": the verbs beyond view, for a front end's buttons.
	check "alice may run and cancel nightly-a (jobs)" eq \
	    "$(asj "$ALICE" jobs | jq -r '.[] | select(.id == "nightly-a") | .may | join(",")')" "run,cancel"
	check "bob may nothing but view report (job show)" eq \
	    "$(asj "$BOB" job show report | jq -r '.may | length')" 0
	check "root may everything on a run of report (run show)" eq \
	    "$(nfj run show "$rep" | jq -r '.may | join(",")')" "run,cancel,replay,enable"
	check "job show lists the secret params" eq \
	    "$(nfj job show payroll | jq -r '.secret_params | join(",")')" token
	end
}

t_audit() {
	begin "allowed and denied actions are audited with identity, target and redacted params; nfctl audit filters"
	setup audit
	start_daemon || { T_OK=0; end; return; }
	as "$ALICE" run nightly-a >/dev/null
	as "$BOB" run payroll -p token=hunter2-secret >/dev/null
	as "$ALICE" job disable report >/dev/null
	db=$D/state/nomaflow.db
	check "alice's run audited ok" eq "$(sqlite3 "$db" "SELECT result FROM audit WHERE user = 'user:$ALICE' AND action = 'run'")" ok
	check "uid recorded" eq "$(sqlite3 "$db" "SELECT DISTINCT uid FROM audit WHERE user = 'user:$ALICE'")" "$ALICE_UID"
	check "bob's denied run audited" eq "$(sqlite3 "$db" "SELECT action || ':' || target || ':' || result FROM audit WHERE user = 'user:$BOB'")" "run:payroll:denied"
	check "the missing verb in the detail" eq \
	    "$(sqlite3 "$db" "SELECT json_extract(detail, '\$.verb') FROM audit WHERE user = 'user:$BOB'")" "run"
	check "secret param redacted in the audit" eq \
	    "$(sqlite3 "$db" "SELECT json_extract(detail, '\$.params.token') FROM audit WHERE user = 'user:$BOB'")" "***"
	check "secret value nowhere in the audit" eq \
	    "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE detail LIKE '%hunter2%'")" 0
	a=$(asj "$ALICE" audit --user "$BOB")
	check "audit --user bob: one row" eq "$(echo "$a" | jq -r length)" 1
	check "audit rows carry time, user, action, target, result" eq \
	    "$(echo "$a" | jq -r '.[0] | "\(.ts > 0) \(.user) \(.action) \(.target) \(.result)"')" \
	    "true user:$BOB run payroll denied"
	check "audit --job report: alice's denied disable" eq \
	    "$(asj "$ALICE" audit --job report | jq -r '.[] | "\(.action):\(.result)"')" "job.disable:denied"
	check "audit --limit" eq "$(asj "$ALICE" audit --limit 2 | jq -r length)" 2
	check "audit --since in the future: nothing" eq \
	    "$(asj "$ALICE" audit --since 2099-01-01 | jq -r length)" 0
	check "audit table for humans" contains "$(as "$ALICE" audit)" "denied"
	# The read of the audit itself is not an action; bob's denied read is.
	as "$BOB" audit >/dev/null
	check "denied audit read audited" eq "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE user = 'user:$BOB' AND action = 'audit' AND result = 'denied'")" 1
	# cancel rows name the job of the run (nfctl audit --job).
	nb=$(nfj run nightly-b | jq -r .run_id)
	as "$ALICE" cancel "$nb" >/dev/null
	wait_run "$nb"
	check "cancel found by --job" eq \
	    "$(asj "$ALICE" audit --job nightly-b | jq -r '.[0] | "\(.action):\(.target):\(.result)"')" "cancel:$nb:ok"
	end
}

t_reload() {
	begin "a broken role table is rejected with file:line:col and the old roles stay; a good one switches at once"
	setup reload
	start_daemon || { T_OK=0; end; return; }
	cp "$D/nomaflow.toml" "$D/good.toml"
	printf '\n[[role]]\nname = "broken"\ngrants = ["run job:x", "launch job:y"]\n' >> "$D/nomaflow.toml"
	line=$(grep -n 'launch job:y' "$D/nomaflow.toml" | cut -d: -f1)
	out=$(nf reload 2>&1); rc=$?
	check "reload rejected" test "$rc" -ne 0
	check "error has file:line:col and the verb" contains "$out" \
	    "$D/nomaflow.toml:$line:25: unknown verb \"launch\""
	check "old roles in force: alice may still run nightly-a" as "$ALICE" run nightly-a
	out=$(as "$BOB" run report); rc=$?
	check "old roles in force: bob still may not run report" eq "$rc" 77

	# An unknown role in a binding and a duplicate role are rejected too.
	cp "$D/good.toml" "$D/nomaflow.toml"
	printf '\n[[user]]\nname = "x"\nroles = ["nosuch"]\n\n[[role]]\nname = "runner"\ngrants = []\n' >> "$D/nomaflow.toml"
	out=$(nf reload 2>&1); rc=$?
	check "unknown role rejected" contains "$out" "unknown role \"nosuch\""
	check "duplicate role rejected" contains "$out" "duplicate role \"runner\""

	# Changed roles take effect with the reload.
	cp "$D/base.toml" "$D/nomaflow.toml"
	roles_base | sed "s/grants = \\[\"view tag:finance\"\\]/grants = [\"run tag:finance\"]/; s/roles = \\[\"runner\", \"auditor\"\\]/roles = [\"auditor\"]/" >> "$D/nomaflow.toml"
	out=$(as "$ALICE" reload); rc=$?
	check "alice's reload accepted" eq "$rc" 0
	out=$(as "$BOB" run report); rc=$?
	check "bob may now run report" eq "$rc" 0
	out=$(as "$ALICE" run nightly-a); rc=$?
	check "alice may no longer run nightly-a" eq "$rc" 77

	# A [[user]] entry for root replaces its built-in admin.
	printf '\n[[user]]\nname = "root"\nroles = ["finance"]\n' >> "$D/nomaflow.toml"
	check "reload with root restricted" nf reload
	out=$(nf run nightly-a 2>&1); rc=$?
	check "root restricted by its own entry" eq "$rc" 77
	out=$(nf reload 2>&1); rc=$?
	check "root may not reload either" eq "$rc" 77
	cp "$D/good.toml" "$D/nomaflow.toml"
	kill -HUP "$DPID"
	check "SIGHUP restores root's built-in admin" wait_for 5 nf run nightly-a
	check "daemon alive" daemon_alive
	end
}

t_socket() {
	begin "with a world-writable socket, a role binding lets a user outside the group in; without one it is refused"
	setup socket
	chmod 0711 "$D/state"
	sed -i 's/^mode = "0660"$/mode = "0666"/' "$D/nomaflow.toml"
	printf '\n[[user]]\nname = "%s"\nroles = ["finance"]\n' "$MALLORY" >> "$D/nomaflow.toml"
	start_daemon || { T_OK=0; end; return; }
	check "socket mode 0666" eq "$(stat -c %a "$SOCK")" 666
	check "mallory (bound, not in the group) connects and sees report" eq \
	    "$(asj "$MALLORY" jobs | jq -r '[.[].id] | join(",")')" report
	out=$(as "$MALLORY" run report); rc=$?
	check "and may not run it" eq "$rc" 77
	sed -i "/^name = \"$MALLORY\"\$/,+1d" "$D/nomaflow.toml"
	sed -i '$d' "$D/nomaflow.toml"
	check "reload without mallory's entry" nf reload
	out=$(as "$MALLORY" status); rc=$?
	check "unbound and outside the group: refused, 77" eq "$rc" 77
	check "the refusal says what would let them in" contains "$out" \
	    "needs root, the daemon's user, the socket's group, or a [[user]] or [[group]] entry"
	end
}

ALL="t_verbs t_views t_audit t_reload t_socket"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
