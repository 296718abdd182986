#!/bin/sh
# secrets.sh: the secret store through a real nomaflowd and nfctl: secret
# set/list/rm (values from stdin or a terminal, never argv), ${secret.NAME}
# in http auth, headers and URLs, exec argv and env, python kwargs, a
# call_job's params, sql params and (with a PostgreSQL from
# tests/services/pg-up.sh) a pool's conninfo, then a grep
# of the database, its WAL, the daemon's log and every --json output for
# the values: no hit.  Plus unknown secrets (run and reload), tampered
# rows, wrong or missing key files, the systemd credential, and key
# rotation killed at each of its crash-injection points (builds with
# --enable-fault-injection).  Prints TAP.  Needs jq, sqlite3, python3.
#
#   top_srcdir=... top_builddir=... tests/integration/secrets.sh [TEST...]

. "$(dirname "$0")/lib.sh"

for t in jq sqlite3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done
if [ ! -x /usr/bin/python3 ]; then
	echo "1..0 # SKIP /usr/bin/python3 (the test server) is not installed"
	exit 0
fi

SERVICES=$top_srcdir/tests/services
# The test server's bearer token (http_test_server.py), kept as a secret.
BEARER=nf-test-bearer-4d1f9a27
VAL_HDR=nf-secret-hdr-5e2b91d7c3
VAL_PARAM=nf-secret-param-a81f04e6

OWN_ENV=
secrets_cleanup() {
	[ -n "$OWN_ENV" ] && NF_HTTP_ENV=$OWN_ENV "$SERVICES/http-down.sh"
	cleanup_all
}
trap secrets_cleanup EXIT

if [ -z "${NF_HTTP_URL:-}" ] && [ -f "$SERVICES/http.env" ]; then
	. "$SERVICES/http.env"
fi
if [ -z "${NF_HTTP_URL:-}" ] || ! /usr/bin/python3 -c 'import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/health", timeout=2)' "$NF_HTTP_URL" \
    2>/dev/null; then
	OWN_ENV=$T_ROOT/http.env
	if ! NF_HTTP_ENV=$OWN_ENV "$SERVICES/http-up.sh" >/dev/null; then
		echo "1..0 # SKIP the test HTTP server did not start"
		exit 0
	fi
	. "$OWN_ENV"
fi
URL=$NF_HTTP_URL

# PostgreSQL is optional: the conninfo case runs when one answers.
if [ -z "${PGPORT:-}" ] && [ -f "$SERVICES/pg.env" ]; then
	. "$SERVICES/pg.env"
fi
HAVE_PG=0
if [ -n "${PGPORT:-}" ] && command -v psql >/dev/null 2>&1 &&
    psql -qAtc 'select 1' >/dev/null 2>&1; then
	HAVE_PG=1
	PGPW=$PGPASSWORD
	# The daemon must get the password from the secret, not libpq's
	# environment.
	unset PGPASSWORD
fi

# Python steps: the runner and the test plugins (as python.sh sets them).
mkdir -p "$T_ROOT/runner"
cp "$top_srcdir/python/nomaflow_runner.py" "$T_ROOT/runner/"
NOMAFLOW_PYTHON_RUNNER=$T_ROOT/runner/nomaflow_runner.py
export NOMAFLOW_PYTHON_RUNNER

FAULTS=0
strings "$NOMAFLOWD" 2>/dev/null | grep -q NOMAFLOW_FAULT && FAULTS=1

skip() {
	T_NUM=$((T_NUM + 1))
	echo "ok $T_NUM - $1 # SKIP $2" >&3
}

# put NAME VALUE: nfctl secret set NAME with VALUE on stdin.
put() { printf '%s\n' "$2" | nf secret set "$1" >/dev/null; }

# tty_set NAME FIRST SECOND: nfctl secret set NAME on a terminal, each
# answer typed after its prompt; prints what the terminal showed.
tty_set() {
	/usr/bin/python3 - "$NFCTL" "$SOCK" "$@" <<'EOPY'
import os, pty, sys, time
nfctl, sock, name, first, second = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(nfctl, [nfctl, "-s", sock, "secret", "set", name])
seen = b""
def until(word, t=10):
    global seen
    end = time.time() + t
    while word not in seen and time.time() < end:
        try:
            seen += os.read(fd, 1024)
        except OSError:
            break
until(b"value of secret")
time.sleep(0.2)
os.write(fd, first.encode() + b"\n")
until(b"again:")
time.sleep(0.2)
os.write(fd, second.encode() + b"\n")
until(b"\n", 0)
while True:
    try:
        b = os.read(fd, 1024)
    except OSError:
        break
    if not b:
        break
    seen += b
os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
EOPY
}

# run_job ID: run it to its end; sets RUN (id) and SHOW (run show --json).
run_job() {
	RUN=$(nfj run "$1" | jq -r .run_id)
	RUNS="$RUNS $RUN"
	wait_run "$RUN" 30
	SHOW=$(nfj run show "$RUN")
}
att() { printf '%s\n' "$SHOW" | jq -r ".attempts[${2:-0}] | $1"; }

# Everything an operator or a program can see, and the files at rest.
gather() {
	{
		for r in $RUNS; do
			nf logs "$r"; nfj logs "$r"; nfj run show "$r"
			nf run show "$r"
		done
		nfj runs --limit 1000; nf runs --limit 1000; nfj jobs; nf jobs
		for j in $JOBS; do nfj job show "$j"; nf job show "$j"; done
		nfj status; nf status; nfj secret list; nf secret list
		"$NOMAFLOWD" -n -v -f "$D/nomaflow.toml"
		cat "$D/daemon.log" "$D"/state/nomaflow.db*
		sqlite3 "$D/state/nomaflow.db" .dump
	} > "$D/seen" 2>&1
}
hits() { grep -a -c -F -e "$1" "$D/seen"; }
# Each value by the name of its variable (a failure must not print it).
no_values() {
	for _v in BEARER VAL_HDR VAL_PARAM $( [ $HAVE_PG = 1 ] && echo PGPW); do
		eval "_val=\$$_v"
		check "$1: value of $_v: 0 hits" eq "$(hits "$_val")" 0
	done
}

# ---------------------------------------------------------------------------
t_secret_cli() {
	begin "secret set/list/rm: stdin or a terminal, never argv; key file 0600; audit without values"
	new_env cli
	add "$D/nomaflow.toml" <<EOT

[secrets]
key_file = "keys/store.key"
EOT
	mkdir -p "$D/keys"
	start_daemon || { T_OK=0; end; return; }
	check "empty list" eq "$(nf secret list)" "no secrets stored"
	check "no key file before the first secret" test ! -e "$D/keys/store.key"
	check "set from stdin" put api "$VAL_HDR"
	check "key file created where configured" test -f "$D/keys/store.key"
	check "key file mode 0600" eq "$(stat -c %a "$D/keys/store.key")" 600
	check "key file 32 bytes" eq "$(stat -c %s "$D/keys/store.key")" 32
	out=$(printf 'x' | nf secret set api "$VAL_PARAM" 2>&1); rc=$?
	check "a value in argv is refused (usage)" eq "$rc" 64
	printf 'x' | nf secret set 'bad name' >/dev/null 2>&1; rc=$?
	check "a bad name is refused" eq "$rc" 64
	printf '' | nf secret set empty >/dev/null 2>&1; rc=$?
	check "an empty value is refused" eq "$rc" 64
	tty_set fromtty "tty-$VAL_PARAM" "tty-$VAL_PARAM" > "$D/tty.out" 2>&1
	check "terminal: asked twice, stored" contains "$(cat "$D/tty.out")" "secret fromtty stored"
	check "terminal: value not echoed" eq "$(grep -c -F "$VAL_PARAM" "$D/tty.out")" 0
	tty_set differ one two > "$D/tty2.out" 2>&1
	check "terminal: two different values refused" contains "$(cat "$D/tty2.out")" "the two values differ"
	check "set again (update)" put api "$VAL_HDR-2"
	l=$(nfj secret list)
	check "list: names" eq "$(printf '%s' "$l" | jq -r '[.[].name] | join(",")')" \
	    "$( [ -f "$D/tty.out" ] && echo api,fromtty || echo api)"
	check "list: dates and key id, no value" eq \
	    "$(printf '%s' "$l" | jq -r '.[0] | keys | join(",")')" "created_at,key_id,name,updated_at"
	check "list: updated after created" test "$(printf '%s' "$l" | jq '.[0].updated_at > .[0].created_at')" = true
	check "table lists the name" contains "$(nf secret list)" "api"
	check "rm" eq "$(nf secret rm api)" "secret api removed"
	nf secret rm api >/dev/null 2>&1; rc=$?
	check "rm of an unknown secret: not found" eq "$rc" 2
	audit=$(sqlite3 "$D/state/nomaflow.db" "SELECT action || ' ' || target || ' ' || result FROM audit WHERE action LIKE 'secret.%' ORDER BY id")
	check "audited" contains "$audit" "secret.set api ok"
	check "audited rm" contains "$audit" "secret.rm api ok"
	stop_daemon
	gather
	check "value nowhere" eq "$(hits "$VAL_HDR")" 0
	check "tty value nowhere" eq "$(hits "$VAL_PARAM")" 0
	end
}

t_secret_grep() {
	begin "\${secret.NAME} in http auth/headers/URL, exec argv/env, python kwargs, call_job params, sql params$( [ $HAVE_PG = 1 ] && echo ", pool conninfo"): used, and 0 hits anywhere"
	new_env grep
	{
		printf 'python = "/usr/bin/python3"\n'
		printf 'plugins_dir = "%s"\n' "$top_srcdir/tests/integration/plugins"
		cat "$D/nomaflow.toml"
	} > "$D/n" && mv "$D/n" "$D/nomaflow.toml"
	add "$D/nomaflow.toml" <<EOT

[pools.lite]
driver = "sqlite"
path = "$D/lite.db"
EOT
	JOBS="bearer echo httpfail execok execfail sqlp callparent callchild pyok pyfail"
	job pyok '[[jobs.steps]]' 'name = "p"' 'type = "python"' \
	    'callable = "nftest.steps:produce"' 'kwargs = { count = 2, label = "${secret.hdr}" }'
	job pyfail '[[jobs.steps]]' 'name = "p"' 'type = "python"' \
	    'callable = "nftest.steps:raises"' 'kwargs = { msg = "${secret.param}" }'
	job bearer '[[jobs.steps]]' 'name = "h"' 'type = "http"' \
	    "url = \"$URL/auth\"" 'auth = { type = "bearer", token = "${secret.api}" }'
	job echo '[[jobs.steps]]' 'name = "h"' 'type = "http"' \
	    "url = \"$URL/echo?k=\${secret.hdr}\"" 'headers = { X-Custom = "${secret.hdr}" }'
	job httpfail '[[jobs.steps]]' 'name = "h"' 'type = "http"' \
	    "url = \"$URL/status/500?k=\${secret.hdr}\""
	job execok '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo \"got $1 and $TOKEN\"; echo \"$1\" >&2", "sh", "${secret.hdr}"]' \
	    'env = { TOKEN = "${secret.param}" }'
	job execfail 'retry = { attempts = 2, backoff = "fixed", base_seconds = 0 }' \
	    '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "echo \"failing with $1\" >&2; exit 4", "sh", "${secret.param}"]'
	job sqlp '[[jobs.steps]]' 'name = "q"' 'type = "sql_query"' 'pool = "lite"' \
	    'sql = "SELECT :p AS v, length(:p) AS n"' 'params = { p = "${secret.param}" }'
	# A secret handed to a called job as a run parameter.
	job callchild 'params = { tok = "none" }' '[[jobs.steps]]' 'name = "e"' \
	    'type = "exec"' 'argv = ["/bin/echo", "child got ${params.tok}"]'
	job callparent '[[jobs.steps]]' 'name = "call"' 'type = "call_job"' \
	    'job = "callchild"' 'params = { tok = "${secret.hdr}" }'
	if [ $HAVE_PG = 1 ]; then
		add "$D/nomaflow.toml" <<EOT

[pools.pg]
driver = "postgres"
conninfo = "host=127.0.0.1 port=$PGPORT dbname=$PGDATABASE user=$PGUSER password=\${secret.pgpw}"

[pools.pgbad]
driver = "postgres"
conninfo = "host=127.0.0.1 port=$PGPORT dbname=$PGDATABASE user=$PGUSER password=\${secret.hdr} connect_timeout=5"
EOT
		JOBS="$JOBS pgok pgbad"
		job pgok '[[jobs.steps]]' 'name = "q"' 'type = "sql_query"' \
		    'pool = "pg"' 'sql = "SELECT 1 AS one"'
		job pgbad '[[jobs.steps]]' 'name = "q"' 'type = "sql_query"' \
		    'pool = "pgbad"' 'sql = "SELECT 1 AS one"'
	fi
	start_daemon || { T_OK=0; end; return; }
	put api "$BEARER"
	put hdr "$VAL_HDR"
	put param "$VAL_PARAM"
	[ $HAVE_PG = 1 ] && put pgpw "$PGPW"
	RUNS=
	run_job bearer
	check "http bearer from a secret: accepted" eq "$(att '"\(.state) \(.output.json.ok)"')" "succeeded true"
	run_job echo
	check "http echo succeeded" eq "$(att .state)" succeeded
	check "echoed header is redacted" eq "$(att '.output.json.headers["X-Custom"]')" "***"
	check "echoed query is redacted" contains "$(att '.output.json.query')" "***"
	run_job httpfail
	check "http 500 fails" eq "$(att .state)" failed
	check "its error shows the URL with the secret as ***" contains "$(att .error)" "k=***"
	run_job execok
	check "exec succeeded" eq "$(att .state)" succeeded
	check "exec log redacted" contains "$(nf logs "$RUN")" "got *** and ***"
	run_job execfail
	check "exec failure, retried" eq "$(printf '%s' "$SHOW" | jq -r '"\(.state) \(.attempts | length)"')" "failed 2"
	check "its log redacted" contains "$(nf logs "$RUN")" "failing with ***"
	run_job sqlp
	check "sql params from a secret" eq "$(att '"\(.state) \(.output.rows[0].n)"')" "succeeded ${#VAL_PARAM}"
	check "sql output redacted" eq "$(att '.output.rows[0].v')" "***"
	run_job pyok
	check "python kwargs from a secret" eq "$(att '"\(.state) \(.output.label)"')" "succeeded ***"
	check "python log redacted" contains "$(nf logs "$RUN")" "producing 2 *** for run"
	run_job pyfail
	check "python error redacted" eq "$(att .error)" "nftest.steps:raises raised ValueError: ***"
	run_job callparent
	check "call_job with a secret param succeeded" eq "$(att .state)" succeeded
	CHILD=$(att .output.run_id)
	RUNS="$RUNS $CHILD"
	check "the child's log redacts it" contains "$(nf logs "$CHILD")" "child got ***"
	check "the child's params show ***" eq "$(nfj run show "$CHILD" | jq -r .params.tok)" "***"
	if [ $HAVE_PG = 1 ]; then
		run_job pgok
		check "conninfo password from a secret: connected" eq "$(att .state)" succeeded
		run_job pgbad
		check "wrong password secret: the server refuses" contains "$(att .error)" "password authentication failed"
	fi
	# Another set of eyes: the store as the daemon left it running (WAL).
	gather
	no_values "running"
	check "the net is cast: redaction marks were seen" test "$(hits '***')" -gt 0
	stop_daemon
	gather
	no_values "after stop"
	end
}

t_secret_unknown() {
	begin "unknown secret: the run fails with a reason; a reload is rejected with file:line:col"
	new_env unknown
	job miss '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/echo", "${secret.missing}"]'
	out=$("$NOMAFLOWD" -n -f "$D/nomaflow.toml" 2>&1)
	check "nomaflowd -n says the secret is not checked" contains "$out" "1 secret referenced (missing): not checked by -n"
	start_daemon || { T_OK=0; end; return; }
	# The first start checks too, once the store is open: a warning with
	# file:line:col, and the daemon runs (nfctl secret set needs it).
	check "start warns at file:line:col" contains "$(cat "$D/daemon.log")" "jobs.d/miss.toml:6:25: job \"miss\": step \"e\": argv: secret.missing: no secret \"missing\""
	run_job miss
	check "run failed" eq "$(att .state)" failed
	check "reason names the secret" contains "$(att .error)" 'no secret "missing" (set it with nfctl secret set missing)'
	# A reload checks every reference against the store.
	job other '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/echo", "x${secret.other}"]'
	add "$D/nomaflow.toml" <<EOT

[pools.pg]
driver = "postgres"
conninfo = "host=/nonexistent password=\${secret.pgpw}"
EOT
	out=$(nf reload 2>&1); rc=$?
	check "reload rejected" eq "$rc" 1
	check "job reference at file:line:col" contains "$out" "jobs.d/other.toml:6:26: job \"other\": step \"e\": argv: secret.other: no secret \"other\""
	check "job reference in the first job too" contains "$out" "jobs.d/miss.toml:6:25: "
	l=$(grep -n 'host=/nonexistent' "$D/nomaflow.toml" | cut -d: -f1)
	check "conninfo reference at file:line" contains "$out" "nomaflow.toml:$l:12: pools.pg.conninfo: \${secret.pgpw}: no secret \"pgpw\""
	put other o; put missing m; put pgpw p
	check "reload accepted once they exist" contains "$(nf reload 2>&1)" "configuration reloaded"
	run_job miss
	check "the run works now" eq "$(att .state)" succeeded
	# Never in a condition.
	job cond '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'when = "secret.missing == \"m\""' 'argv = ["/bin/true"]'
	out=$(nf reload 2>&1)
	check "a condition on a secret is an error" contains "$out" "secret values cannot be used in conditions"
	end
}

t_secret_tamper() {
	begin "a tampered or moved ciphertext is detected and the run fails, never uses it"
	new_env tamper
	job a '[[jobs.steps]]' 'name = "e"' 'type = "exec"' 'argv = ["/bin/echo", "${secret.a}"]'
	job b '[[jobs.steps]]' 'name = "e"' 'type = "exec"' 'argv = ["/bin/echo", "${secret.b}"]'
	job c '[[jobs.steps]]' 'name = "e"' 'type = "exec"' 'argv = ["/bin/echo", "${secret.c}"]'
	start_daemon || { T_OK=0; end; return; }
	put a aaaa; put b bbbb; put c cccc
	stop_daemon
	sqlite3 "$D/state/nomaflow.db" "UPDATE secrets SET ciphertext =
	    substr(ciphertext, 1, 2) || x'ff' || substr(ciphertext, 4) WHERE name = 'a';
	    UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE name = 'b'),
	    ciphertext = (SELECT ciphertext FROM secrets WHERE name = 'b') WHERE name = 'c';"
	start_daemon || { T_OK=0; end; return; }
	RUNS=
	run_job a
	check "tampered: failed" eq "$(att .state)" failed
	check "tampered: reason" contains "$(att .error)" "secret a cannot be decrypted: authentication failed"
	run_job c
	check "moved to another name: failed" contains "$(att .error)" "secret c cannot be decrypted"
	run_job b
	check "the untouched one works" eq "$(att .state)" succeeded
	check "daemon log says why" contains "$(cat "$D/daemon.log")" "secret a cannot be decrypted"
	end
}

t_secret_key_file() {
	begin "wrong, missing or open key file: clear start-up errors; the systemd credential"
	new_env key
	job a '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "test \"$1\" = right", "sh", "${secret.a}"]'
	start_daemon || { T_OK=0; end; return; }
	put a right
	stop_daemon
	K=$D/state/secrets.key
	cp "$K" "$D/key.bak"
	head -c 32 /dev/urandom > "$K"
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "wrong key: refuses to start" eq "$rc" 1
	check "wrong key: names the path and the cause" contains "$out" "key file $K (key "
	check "wrong key: says what to do" contains "$out" "is not the key that sealed 1 of the 1 stored secrets"
	rm -f "$K"
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "missing key: refuses to start" eq "$rc" 1
	check "missing key: names the path" contains "$out" "key file $K does not exist, but the store holds 1 secret"
	cp "$D/key.bak" "$K"; chmod 644 "$K"
	out=$("$NOMAFLOWD" -f "$D/nomaflow.toml" 2>&1); rc=$?
	check "key readable by others: refuses to start" eq "$rc" 1
	check "open key: says chmod" contains "$out" "has mode 0644"
	# The credential wins over the file (which may then be gone).
	mkdir -p "$D/cred"
	cp "$D/key.bak" "$D/cred/nomaflow-secrets-key"
	rm -f "$K"
	export CREDENTIALS_DIRECTORY=$D/cred
	start_daemon || { unset CREDENTIALS_DIRECTORY; T_OK=0; end; return; }
	unset CREDENTIALS_DIRECTORY
	run_job a
	check "credential key opens the secret" eq "$(att .state)" succeeded
	out=$(nf secret rotate-key 2>&1); rc=$?
	check "rotate-key refused with a credential" eq "$rc" 1
	check "and says why" contains "$out" "systemd credential"
	stop_daemon
	cp "$D/key.bak" "$K"; chmod 600 "$K"
	start_daemon || { T_OK=0; end; return; }
	run_job a
	check "the right key file works again" eq "$(att .state)" succeeded
	end
}

# The job that proves every value is intact (and which key sealed them).
check_job() {
	job chk '[[jobs.steps]]' 'name = "e"' 'type = "exec"' \
	    'argv = ["/bin/sh", "-c", "[ \"$1\" = one-1 ] && [ \"$2\" = two-2 ] && [ \"$3\" = three-3 ]", "sh", "${secret.s1}", "${secret.s2}", "${secret.s3}"]'
}

t_secret_rotate() {
	begin "rotate-key: new key id, every secret still opens, across a restart"
	new_env rotate
	check_job
	start_daemon || { T_OK=0; end; return; }
	put s1 one-1; put s2 two-2; put s3 three-3
	id0=$(nfj secret list | jq -r '.[0].key_id')
	out=$(nf secret rotate-key)
	check "rotated 3" contains "$out" "key rotated: 3 secrets re-sealed"
	id1=$(nfj secret list | jq -r '[.[].key_id] | unique | join(",")')
	check "one new key id" test "$id1" != "$id0" -a "$(printf '%s' "$id1" | grep -c ,)" = 0
	check "no key.new left" test ! -e "$D/state/secrets.key.new"
	run_job chk
	check "values intact" eq "$(att .state)" succeeded
	stop_daemon
	start_daemon || { T_OK=0; end; return; }
	run_job chk
	check "values intact after a restart" eq "$(att .state)" succeeded
	end
}

t_secret_rotate_crash() {
	if [ $FAULTS = 0 ]; then
		skip "rotate-key killed at each crash-injection point" "nomaflowd built without --enable-fault-injection"
		return
	fi
	begin "rotate-key killed at each crash-injection point: no secret lost after restart"
	for point in secret_rotate_keynew secret_rotate_commit \
	    secret_rotate_rename secret_rotate_sync; do
		new_env "crash-$point"
		check_job
		start_daemon || { T_OK=0; break; }
		put s1 one-1; put s2 two-2; put s3 three-3
		id0=$(nfj secret list | jq -r '.[0].key_id')
		stop_daemon
		export NOMAFLOW_FAULT=$point:kill
		start_daemon || { unset NOMAFLOW_FAULT; T_OK=0; break; }
		unset NOMAFLOW_FAULT
		nf secret rotate-key >/dev/null 2>&1; rc=$?
		check "$point: the daemon died in rotate-key" test "$rc" -ne 0
		wait "$DPID" 2>/dev/null
		DPID=
		start_daemon || { T_OK=0; break; }
		check "$point: no key.new left" test ! -e "$D/state/secrets.key.new"
		check "$point: three secrets" eq "$(nfj secret list | jq -r '[.[].name] | join(",")')" s1,s2,s3
		ids=$(nfj secret list | jq -r '[.[].key_id] | unique | length')
		check "$point: one key id" eq "$ids" 1
		id1=$(nfj secret list | jq -r '.[0].key_id')
		case $point in
		secret_rotate_keynew|secret_rotate_commit)
			check "$point: rolled back to the old key" eq "$id1" "$id0" ;;
		*)
			check "$point: finished on the new key" test "$id1" != "$id0" ;;
		esac
		run_job chk
		check "$point: every value intact" eq "$(att .state)" succeeded
		check "$point: rotate again" contains "$(nf secret rotate-key)" "3 secrets re-sealed"
		run_job chk
		check "$point: intact after the second rotation" eq "$(att .state)" succeeded
		stop_daemon
	done
	end
}

ALL="t_secret_cli t_secret_grep t_secret_unknown t_secret_tamper
t_secret_key_file t_secret_rotate t_secret_rotate_crash"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
