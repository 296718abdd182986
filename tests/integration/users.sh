#!/bin/sh
# users.sh: web UI accounts through a real nomaflowd and nfctl: user
# passwd (password from stdin or a terminal asked twice, never argv; the
# minimum length; a name no [[user]] entry binds is stored with a
# warning), user list, user rm, the argon2id hash in the store and no
# password anywhere (database, WAL, daemon log, audit), the audit rows,
# and a caller without the admin grant refused with exit 77 (its denial
# audited with the password redacted).  Prints TAP.  Needs jq, sqlite3
# and python3 (the terminal).
#
#   top_srcdir=... top_builddir=... tests/integration/users.sh [TEST...]

. "$(dirname "$0")/lib.sh"

for t in jq sqlite3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "1..0 # SKIP $t is not installed"
		exit 0
	fi
done

PW=nf-pw-7c2e91d4-horse
ME=$(id -un)

# passwd NAME PASSWORD: nfctl user passwd NAME with PASSWORD on stdin.
passwd() { printf '%s\n' "$2" | nf user passwd "$1"; }

# tty_passwd NAME FIRST SECOND: nfctl user passwd NAME on a terminal, each
# answer typed after its prompt; prints what the terminal showed.
tty_passwd() {
	/usr/bin/python3 - "$NFCTL" "$SOCK" "$@" <<'EOPY'
import os, pty, sys, time
nfctl, sock, name, first, second = sys.argv[1:6]
pid, fd = pty.fork()
if pid == 0:
    os.execv(nfctl, [nfctl, "-s", sock, "user", "passwd", name])
seen = b""
def until(word, t=10):
    global seen
    end = time.time() + t
    while word not in seen and time.time() < end:
        try:
            seen += os.read(fd, 1024)
        except OSError:
            break
until(b"new password of")
time.sleep(0.2)
os.write(fd, first.encode() + b"\n")
until(b"again:")
time.sleep(0.2)
os.write(fd, second.encode() + b"\n")
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

roles() {
	add "$D/nomaflow.toml" <<EOT

[[role]]
name = "viewer"
grants = ["view job:*"]

[[user]]
name = "alice"
roles = ["viewer"]
EOT
}

# ---------------------------------------------------------------------------
t_cli() {
	begin "user passwd/list/rm: stdin or a terminal, never argv; minimum length; argon2id in the store; audited without the password"
	new_env cli
	roles
	start_daemon || { T_OK=0; end; return; }
	check "empty list" contains "$(nf user list)" "no UI accounts"
	out=$(passwd alice "$PW" 2>&1); rc=$?
	check "set from stdin" eq "$rc" 0
	check "says so" eq "$out" "password of alice set"
	out=$(printf 'x' | nf user passwd alice "$PW" 2>&1); rc=$?
	check "a password in argv is refused (usage)" eq "$rc" 64
	out=$(passwd alice short7x 2>&1); rc=$?
	check "7 characters: refused (usage)" eq "$rc" 64
	check "the minimum is named" contains "$out" \
	    "password of alice is too short: 7 characters, at least 8 are needed"
	out=$(passwd 'bad name' "$PW" 2>&1); rc=$?
	check "a bad name is refused" eq "$rc" 64
	check "and said why" contains "$out" 'account name "bad name"'
	out=$(printf '' | nf user passwd alice 2>&1); rc=$?
	check "empty stdin is refused" eq "$rc" 64
	out=$(passwd carol "$PW" 2>&1); rc=$?
	check "an unbound name is stored" eq "$rc" 0
	check "with a warning" contains "$out" \
	    "warning: no [[user]] entry of the role model names carol"
	if [ -x /usr/bin/python3 ]; then
		tty_passwd dave "tty-$PW" "tty-$PW" > "$D/tty.out" 2>&1
		check "terminal: asked twice, stored" contains \
		    "$(cat "$D/tty.out")" "password of dave set"
		check "terminal: not echoed" eq \
		    "$(grep -c -F "$PW" "$D/tty.out")" 0
		tty_passwd erin "one-password" "two-password" > "$D/tty2.out" 2>&1
		check "terminal: two different answers refused" contains \
		    "$(cat "$D/tty2.out")" "the two values differ"
	fi
	l=$(nfj user list)
	check "list: names" eq "$(printf '%s' "$l" | jq -r '[.[].name] | join(",")')" \
	    "$( [ -x /usr/bin/python3 ] && echo alice,carol,dave || echo alice,carol)"
	check "list: dates and binding, no hash" eq \
	    "$(printf '%s' "$l" | jq -r '.[0] | keys | join(",")')" \
	    "created_at,name,ui,updated_at"
	check "list: alice is a UI account, carol not" eq \
	    "$(printf '%s' "$l" | jq -r '[.[0].ui, .[1].ui] | join(",")')" \
	    "true,false"
	check "table says why carol cannot log in" contains \
	    "$(nf user list)" "no: no [[user]] entry"
	check "argon2id hash, interactive limits" contains \
	    "$(sqlite3 "$D/state/nomaflow.db" "SELECT hash FROM web_accounts WHERE name = 'alice'")" \
	    '$argon2id$v=19$m=65536,t=2,p=1$'
	check "rm" eq "$(nf user rm carol)" "account carol removed"
	nf user rm carol >/dev/null 2>&1; rc=$?
	check "rm of an unknown account: not found" eq "$rc" 2
	audit=$(sqlite3 "$D/state/nomaflow.db" "SELECT action || ' ' || target || ' ' || result || ' ' || coalesce(detail, '') FROM audit WHERE action LIKE 'user.%' ORDER BY id")
	check "audited" contains "$audit" "user.passwd alice ok"
	check "audited refusal" contains "$audit" "user.passwd alice password of alice is too short"
	check "audited rm" contains "$audit" "user.rm carol ok"
	stop_daemon
	check "no password in the database, WAL or log" eq \
	    "$(cat "$D/state/nomaflow.db"* "$D/daemon.log" | grep -c -a -F "$PW")" 0
	end
}

t_denied() {
	begin "user passwd/list/rm need admin: 77, denial audited with the password redacted"
	new_env denied
	roles
	# An entry for the caller replaces its built-in admin.
	printf '\n[[user]]\nname = "%s"\nroles = ["viewer"]\n' "$ME" >> "$D/nomaflow.toml"
	start_daemon || { T_OK=0; end; return; }
	out=$(passwd alice "$PW" 2>&1); rc=$?
	check "passwd: 77" eq "$rc" 77
	check "the denial names the command and the grant" contains "$out" \
	    "may not user.passwd; ask an admin for a role with 'admin'"
	out=$(nf user list 2>&1); rc=$?
	check "list: 77" eq "$rc" 77
	out=$(nf user rm alice 2>&1); rc=$?
	check "rm: 77" eq "$rc" 77
	check "nothing stored" eq \
	    "$(sqlite3 "$D/state/nomaflow.db" "SELECT count(*) FROM web_accounts")" 0
	audit=$(sqlite3 "$D/state/nomaflow.db" "SELECT action || ' ' || result || ' ' || coalesce(detail, '') FROM audit WHERE action = 'user.passwd'")
	check "denial audited" contains "$audit" "user.passwd denied"
	check "with the password redacted" contains "$audit" '"password":"***"'
	stop_daemon
	check "no password in the database, WAL or log" eq \
	    "$(cat "$D/state/nomaflow.db"* "$D/daemon.log" | grep -c -a -F "$PW")" 0
	end
}

t_loop() {
	begin "user passwd hashes off the loop: another client's status is answered while the hashes are made"
	new_env loop
	roles
	start_daemon || { T_OK=0; end; return; }
	# Four password changes queue about 0.7 s of argon2id on the one
	# hashing thread; a status sent behind them is answered before the
	# last of them (on the loop it would wait for every one).
	: > "$D/order"
	pids=
	for u in u1 u2 u3 u4; do
		( passwd $u "$PW-$u" > "$D/$u.out" 2>&1; echo "passwd $? $u" >> "$D/order" ) &
		pids="$pids $!"
	done
	out=$(nf status 2>&1); rc=$?
	echo "status $rc" >> "$D/order"
	# Not a bare wait: the daemon is a child of this shell too.
	for p in $pids; do
		wait $p
	done
	check "status answered" eq "$rc" 0
	check "before the last password change" eq \
	    "$(tail -n 1 "$D/order" | cut -d' ' -f1)" passwd
	check "every change made" eq "$(grep -c '^passwd 0 ' "$D/order")" 4
	check "and stored" eq \
	    "$(sqlite3 "$D/state/nomaflow.db" "SELECT count(*) FROM web_accounts WHERE hash LIKE '\$argon2id\$%'")" 4
	check "each one said so" eq "$(cat "$D"/u?.out | grep -c '^password of u. set$')" 4
	audit=$(sqlite3 "$D/state/nomaflow.db" "SELECT count(*) FROM audit WHERE action = 'user.passwd' AND result = 'ok'")
	check "each one audited" eq "$audit" 4
	stop_daemon
	end
}

ALL="t_cli t_denied t_loop"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
