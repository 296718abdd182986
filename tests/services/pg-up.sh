#!/bin/sh
# pg-up.sh: start a throwaway PostgreSQL for the test suite and write its
# environment to tests/services/pg.env (also printed on stdout).
#
# Idempotent: when pg.env names a cluster that still answers, nothing is
# done.  Runs as root (the test command does) or as any user that can run
# initdb; the server itself runs as the "postgres" OS user when started by
# root, because PostgreSQL refuses to run as root.  It listens on a unix
# socket inside its own temporary directory and on 127.0.0.1 only, on a
# free port.  A login role "nftest" with a password owns the database
# "nftest"; the superuser "postgres" uses trust on the socket only.
#
# Knobs: PG_VER (default 15).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
envfile=$here/pg.env
PG_VER=${PG_VER:-15}
BIN=/usr/lib/postgresql/$PG_VER/bin

if [ -f "$envfile" ]; then
	. "$envfile"
	if [ -n "${NF_PG_DIR:-}" ] && [ -x "$BIN/pg_isready" ] &&
	    "$BIN/pg_isready" -q -h "$NF_PG_DIR" -p "$PGPORT"; then
		cat "$envfile"
		exit 0
	fi
	rm -f "$envfile"
fi

if [ ! -x "$BIN/initdb" ]; then
	echo "pg-up: installing postgresql-$PG_VER" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq "postgresql-$PG_VER" >&2 ||
	    { apt-get update -qq >&2 &&
	    apt-get install -y -qq "postgresql-$PG_VER" >&2; }
fi

# A free loopback port: ask the kernel for one.
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

dir=$(mktemp -d /tmp/nomaflow-testpg.XXXXXX)
chmod 0755 "$dir"
if [ "$(id -u)" -eq 0 ]; then
	chown postgres:postgres "$dir"
	as_pg() { runuser -u postgres -- "$@"; }
else
	as_pg() { "$@"; }
fi
as_pg "$BIN/initdb" -D "$dir/data" -U postgres --auth-local=trust \
    --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
    >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# A test server: no durability, loopback only, socket in its directory.
as_pg "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 -o \
    "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50" \
    start >&2 || { cat "$dir/server.log" >&2; exit 1; }
"$BIN/psql" -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
    -qAt >&2 <<SQL
CREATE ROLE nftest LOGIN SUPERUSER PASSWORD 'nftest-pw';
CREATE DATABASE nftest OWNER nftest;
SQL

cat >"$envfile" <<ENV
export NF_PG_DIR=$dir
export NF_PG_BIN=$BIN
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=nftest
export PGPASSWORD=nftest-pw
export PGDATABASE=nftest
ENV
cat "$envfile"
