#!/bin/sh
# runas.sh: who a step's program runs as, and in which namespaces.  A
# job's run_as, [worker] run_as (and the job's winning over it), the
# default of a root nomaflowd (the "nomaflow" user, else root with a
# warning), an unknown user as a file:line:col error of nomaflowd -n and of
# a reload; in every case the program has no capability (CapEff, CapPrm,
# CapBnd all zero) and no_new_privs.  isolation = ["net", "mount", "pid"]:
# only lo (and up), a private /tmp, pid 1 with a /proc of its own; bad
# names are file:line:col errors.  Creates unix users (useradd) and
# namespaces, so it needs root.  Prints TAP.
#
#   top_srcdir=... top_builddir=... tests/integration/runas.sh [TEST...]

. "$(dirname "$0")/lib.sh"

if ! command -v jq >/dev/null 2>&1; then
	echo "1..0 # SKIP jq is not installed"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (creates unix users)"
	exit 0
fi
for c in useradd userdel groupdel; do
	if ! command -v $c >/dev/null 2>&1; then
		echo "1..0 # SKIP $c is not installed"
		exit 0
	fi
done

# Short names: useradd limits them to 32 characters.
U1=nfra_$$
U2=nfrb_$$
G2=nfrg_$$

cleanup_runas() {
	userdel "$U1" 2>/dev/null
	userdel "$U2" 2>/dev/null
	groupdel "$U1" 2>/dev/null
	groupdel "$U2" 2>/dev/null
	groupdel "$G2" 2>/dev/null
	cleanup_all
}
trap cleanup_runas EXIT

if ! { useradd -M -U -s /bin/sh "$U1" && groupadd "$G2" &&
    useradd -M -U -G "$G2" -s /bin/sh "$U2"; } >/dev/null 2>&1; then
	echo "1..0 # SKIP cannot create test users"
	exit 0
fi
UID1=$(id -u "$U1")
UID2=$(id -u "$U2")
GID2=$(id -g "$U2")
GG2=$(getent group "$G2" | cut -d: -f3)

# A step that prints who it is and what it may do.
WHO='argv = ["/bin/sh", "-c", "echo uid=$(id -u) gid=$(id -g) groups=$(id -G); grep -E \"^(Cap(Eff|Prm|Bnd|Amb)|NoNewPrivs):\" /proc/self/status | tr -d \"\\t\" | tr \"\\n\" \" \"; echo"]'
NOCAPS="CapPrm:0000000000000000 CapEff:0000000000000000 CapBnd:0000000000000000 CapAmb:0000000000000000 NoNewPrivs:1"

# who JOB: the step's output line(s).
who() { nf run "$1" --follow 2>&1; }

t_job() {
	begin "run_as of a job: the program runs as that user, without capabilities"
	new_env job
	job mine 'run_as = "'"$U1"'"' '[[jobs.steps]]' 'name = "who"' \
	    'type = "exec"' "$WHO"
	start_daemon || { T_OK=0; end; return; }
	out=$(who mine)
	check "uid of run_as" contains "$out" "uid=$UID1 gid=$(id -g "$U1")"
	check "no capability, no_new_privs" contains "$out" "$NOCAPS"
	id=$(nfj runs --job mine | jq -r '.[0].id')
	check "run succeeded" eq "$(run_state "$id")" succeeded
	end
}

t_global() {
	begin "[worker] run_as for every job, a job's own run_as wins, groups are the user's"
	new_env global
	sed -i "s/^run_as = .*/run_as = \"$U2\"/" "$D/nomaflow.toml"
	job dflt '[[jobs.steps]]' 'name = "who"' 'type = "exec"' "$WHO"
	job own 'run_as = "'"$U1"'"' '[[jobs.steps]]' 'name = "who"' \
	    'type = "exec"' "$WHO"
	start_daemon || { T_OK=0; end; return; }
	out=$(who dflt)
	check "global run_as" contains "$out" "uid=$UID2 gid=$GID2"
	check "supplementary group" contains "$out" "$GG2"
	check "no capability, no_new_privs" contains "$out" "$NOCAPS"
	out=$(who own)
	check "the job's run_as wins" contains "$out" "uid=$UID1"
	check "no capability (job)" contains "$out" "$NOCAPS"
	check "config dump shows run_as" contains "$("$NOMAFLOWD" -n -v -f "$D/nomaflow.toml" 2>&1)" "run_as = \"$U2\""
	end
}

t_default() {
	begin "root nomaflowd without run_as: the nomaflow user, else root without capabilities and a warning"
	new_env default
	sed -i '/^run_as = /d' "$D/nomaflow.toml"
	job plain '[[jobs.steps]]' 'name = "who"' 'type = "exec"' "$WHO"
	start_daemon || { T_OK=0; end; return; }
	out=$(who plain)
	if getent passwd nomaflow >/dev/null; then
		check "the nomaflow user" contains "$out" "uid=$(id -u nomaflow)"
	else
		check "root" contains "$out" "uid=0 "
		check "warned at start" contains "$(cat "$D/daemon.log")" \
		    "steps run as root (without capabilities); create the user nomaflow or set [worker] run_as"
	fi
	check "no capability, no_new_privs" contains "$out" "$NOCAPS"
	end
}

t_unknown() {
	begin "an unknown run_as user is a file:line:col error (nomaflowd -n, reload)"
	new_env unknown
	job keep '[[jobs.steps]]' 'name = "s"' 'type = "exec"' 'argv = ["/bin/true"]'
	start_daemon || { T_OK=0; end; return; }
	printf '[[jobs]]\nid = "ghost"\nrun_as = "nfnosuch_%s"\n[[jobs.steps]]\nname = "s"\ntype = "exec"\nargv = ["/bin/true"]\n' $$ > "$D/jobs.d/ghost.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "nomaflowd -n fails" test "$rc" -ne 0
	check "-n: file:line:col and the name" contains "$out" \
	    "ghost.toml:3:10: job \"ghost\": run_as: no user \"nfnosuch_$$\" on this system"
	out=$(nf reload 2>&1); rc=$?
	check "reload rejected" eq "$rc" 1
	check "reload names it" contains "$out" "ghost.toml:3:10: job \"ghost\": run_as: no user"
	check "old config still runs" nf run keep --follow
	sed -i "s/^run_as = .*/run_as = \"nfnosuch_$$\"/" "$D/nomaflow.toml"
	rm "$D/jobs.d/ghost.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "global unknown: -n fails" test "$rc" -ne 0
	check "global unknown: worker.run_as named" contains "$out" "worker.run_as: no user"
	end
}

t_isolation() {
	need_sandbox "isolation: net, mount, pid" || return 0
	begin "isolation: lo only and up, a private /tmp, pid 1 with its own /proc; run_as still applies"
	new_env isolation
	echo "host" > "/tmp/nomaflow-host-$$"
	job iso 'isolation = ["net", "mount", "pid"]' 'run_as = "'"$U1"'"' \
	    '[[jobs.steps]]' 'name = "look"' 'type = "exec"' \
	    'argv = ["/usr/bin/python3", "-I", "-c", "import os, socket\nl = socket.socket(); l.bind((\"127.0.0.1\", 0)); l.listen()\nc = socket.create_connection(l.getsockname(), timeout=2)\nprint(\"lo up\")\nprint(\"ifaces\", sorted(x.split(\":\")[0].strip() for x in open(\"/proc/net/dev\").readlines()[2:]))\nprint(\"pid\", os.getpid(), \"procs\", len([d for d in os.listdir(\"/proc\") if d.isdigit()]))\nprint(\"host file seen\", os.path.exists(\"/tmp/nomaflow-host-'"$$"'\"))\nopen(\"/tmp/nomaflow-step-'"$$"'\", \"w\").write(\"x\")\nprint(\"uid\", os.getuid())"]'
	job open '[[jobs.steps]]' 'name = "look"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "cat /proc/net/dev | tail -n +3 | wc -l; echo pid=$$"]'
	start_daemon || { T_OK=0; end; return; }
	out=$(nf run iso --follow 2>&1)
	id=$(nfj runs --job iso | jq -r '.[0].id')
	check "run succeeded" eq "$(run_state "$id")" succeeded
	check "lo is up" contains "$out" "lo up"
	check "no interface but lo" contains "$out" "ifaces ['lo']"
	check "pid 1, a handful of processes" contains "$out" "pid 1 procs 1"
	check "host /tmp not seen" contains "$out" "host file seen False"
	check "the step's /tmp stays its own" test ! -e "/tmp/nomaflow-step-$$"
	check "run_as applies inside" contains "$out" "uid $UID1"
	out=$(nf run open --follow 2>&1)
	check "without isolation: the host's network" sh -c "[ \$(echo '$out' | head -n 1 | tr -dc 0-9) -ge 1 ]"
	check "without isolation: not pid 1" eval '! echo "$out" | grep -q "pid=1\$"'
	rm -f "/tmp/nomaflow-host-$$"
	printf '[[jobs]]\nid = "bad"\nisolation = ["net", "user", "net"]\n[[jobs.steps]]\nname = "s"\ntype = "exec"\nargv = ["/bin/true"]\n' > "$D/jobs.d/bad.toml"
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "unknown namespace: file:line:col" contains "$out" \
	    'bad.toml:3:21: job "bad": isolation: unknown namespace "user"; choose among "net", "mount" and "pid"'
	check "repeated namespace" contains "$out" \
	    'bad.toml:3:29: job "bad": isolation: "net" is listed twice'
	end
}

ALL="t_job t_global t_default t_unknown t_isolation"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
