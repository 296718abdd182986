#!/bin/sh
# sql.sh: sql_query and sql_copy against a real PostgreSQL (started by
# tests/services/pg-up.sh; the test command does it) and SQLite, through a
# real nomaflowd.  Skipped when no PostgreSQL is configured.
. "${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/tests/integration/lib.sh"

if [ -z "${PGPORT:-}" ] && [ -f "$top_srcdir/tests/services/pg.env" ]; then
	. "$top_srcdir/tests/services/pg.env"
fi
if [ -z "${PGPORT:-}" ] || ! psql -qAtc 'select 1' >/dev/null 2>&1; then
	echo "1..0 # SKIP no PostgreSQL (run tests/services/pg-up.sh)"
	exit 0
fi
PGDB=nf_it_$$
psql -qAt -d "$PGDATABASE" -c "CREATE DATABASE $PGDB" >/dev/null || exit 1
export PGDATABASE=$PGDB
cleanup_sql() {
	cleanup_all
	PGDATABASE=nftest psql -qAt -c "DROP DATABASE IF EXISTS $PGDB WITH (FORCE)" >/dev/null 2>&1
}
trap cleanup_sql EXIT
q() { psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }

# A test directory with a PostgreSQL pool "pg" (password from ${VAR}) and
# a SQLite pool "lite"; extra lines on stdin are appended.
sql_env() {
	new_env "$1"
	cat >> "$D/nomaflow.toml" <<EOT

[pools.pg]
driver = "postgres"
conninfo = "host=127.0.0.1 port=$PGPORT dbname=$PGDB user=$PGUSER password=\${NF_TEST_PGPW}"

[pools.pg2]
driver = "postgres"
conninfo = "host=127.0.0.1 port=$PGPORT dbname=$PGDB user=$PGUSER password=\${NF_TEST_PGPW}"
max_concurrent = 1

[pools.lite]
driver = "sqlite"
path = "$D/lite.db"
EOT
	cat >> "$D/nomaflow.toml"
}
export NF_TEST_PGPW="$PGPASSWORD"

last_run() { nfj runs --job "$1" | jq -r '.[0].id'; }
att() { nfj run show "$1" | jq -r ".attempts[${3:-0}].$2"; }

t_pg_query() {
	begin "sql_query on PostgreSQL: named params bound, script, rows, errors"
	sql_env pgq </dev/null
	job q 'params = { who = "world", n = 41 }' \
	    '[[jobs.steps]]' 'name = "mk"' 'type = "sql_query"' 'pool = "pg"' 'script = true' \
	    "sql = \"CREATE TABLE q1 (who text, n int); INSERT INTO q1 VALUES (:who, :n), (':who', 1); -- :not_a_param\"" \
	    '[[jobs.steps]]' 'name = "sel"' 'type = "sql_query"' 'pool = "pg"' \
	    'sql = "SELECT who, n::int8 + 1 AS next, :who::text AS again FROM q1 ORDER BY n DESC"'
	job bad '[[jobs.steps]]' 'name = "oops"' 'type = "sql_query"' 'pool = "pg"' \
	    'sql = "SELECT 1 FROM\n no_such_table"'
	job two '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "pg"' \
	    'sql = "SELECT 1; SELECT 2"'
	job noparam '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "pg"' \
	    'sql = "SELECT :missing"'
	start_daemon || { T_OK=0; end; return; }
	check "run succeeds" nf run q --follow -p who=nomaflow
	id=$(last_run q)
	check "script inserted 2 rows" eq "$(att "$id" rows_affected)" 2
	check "quoted ':who' is text, the param is bound" eq \
	    "$(q "SELECT string_agg(who, ',' ORDER BY who) FROM q1")" ":who,nomaflow"
	show=$(nfj run show "$id")
	check "rows come back typed" eq "$(echo "$show" | jq -c '.attempts[1].output.rows[0]')" \
	    '{"who":"nomaflow","next":42,"again":"nomaflow"}'
	nf run bad --follow >/dev/null 2>&1
	err=$(att "$(last_run bad)" error)
	check "bad SQL: server message" contains "$err" 'relation "no_such_table" does not exist'
	check "bad SQL: SQLSTATE" contains "$err" "[42P01]"
	check "bad SQL: position" contains "$err" "line 2, col 2 of spec.sql"
	nf run two --follow >/dev/null 2>&1
	check "two statements without script refused" contains "$(att "$(last_run two)" error)" "set script = true"
	nf run noparam --follow >/dev/null 2>&1
	check "unset parameter named" contains "$(att "$(last_run noparam)" error)" "parameter :missing is not set"
	end
}

TYPES_DDL="id int, i2 smallint, i4 integer, i8 bigint, num numeric(20,6),
    f4 real, f8 double precision, t text, vc varchar(20), b bytea, bo boolean,
    d date, tm time, ts timestamp, tz timestamptz"
COLTYPES="SELECT string_agg(format_type(atttypid, atttypmod), ',' ORDER BY attnum)
    FROM pg_attribute WHERE attnum > 0 AND NOT attisdropped AND attrelid ="
# Rows of a and b that the other lacks (0 when equal as sets).
diffrows() {
	q "SELECT (SELECT count(*) FROM (SELECT * FROM $1 EXCEPT ALL SELECT * FROM $2) x)
	    + (SELECT count(*) FROM (SELECT * FROM $2 EXCEPT ALL SELECT * FROM $1) y)"
}
copy_job() {
	_id=$1; shift
	job "$_id" '[[jobs.steps]]' 'name = "copy"' 'type = "sql_copy"' "$@"
}

t_copy_types() {
	begin "sql_copy: every type round-trips PG->PG, PG->SQLite, SQLite->PG"
	sql_env types </dev/null
	q "CREATE TABLE ty_src ($TYPES_DDL);
	INSERT INTO ty_src VALUES
	(1, -32768, 2147483647, -9223372036854775808, 12345678901234.123456, 1.5, 0.1,
	 'héllo ✓ 𝄞 日本', 'tab	here', '\\x00ff10'::bytea, true, '2024-02-29',
	 '23:59:59.123456', '2024-02-29 12:34:56.789', '2024-02-29 12:34:56.789+02'),
	(2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
	(3, 0, 0, 9223372036854775807, -0.000001, -3.25, 1e300,
	 E'line1\\nline2 back\\\\slash \\\\N', '', ''::bytea, false, '0001-01-01',
	 '00:00:00', '1999-12-31 23:59:59', '1970-01-01 00:00:00+00'),
	(4, 1, -1, 1, 0, 'NaN', '-Infinity', ' ', '\\N', '\\x5c0a09'::bytea, NULL,
	 '9999-12-31', '12:00:00', '2000-01-01 00:00:00.000001', '2038-01-19 03:14:08+00')"
	copy_job pp 'source = { pool = "pg", table = "ty_src" }' 'target = { pool = "pg", table = "ty_pg" }'
	copy_job pl 'source = { pool = "pg", table = "ty_src" }' 'target = { pool = "lite", table = "ty_lite" }'
	copy_job lp 'source = { pool = "lite", table = "ty_lite" }' 'target = { pool = "pg", table = "ty_back" }'
	start_daemon || { T_OK=0; end; return; }
	check "PG->PG runs" nf run pp --follow
	check "PG->PG: same rows" eq "$(diffrows ty_src ty_pg)" 0
	check "PG->PG: same types" eq "$(q "$COLTYPES 'ty_pg'::regclass")" "$(q "$COLTYPES 'ty_src'::regclass")"
	check "PG->SQLite runs" nf run pl --follow
	L="$D/lite.db"
	check "SQLite: integers are integers" eq "$(sqlite3 "$L" "SELECT typeof(i8), i8, i4 FROM ty_lite WHERE id = 1")" "integer|-9223372036854775808|2147483647"
	check "SQLite: numeric kept exact as text" eq "$(sqlite3 "$L" "SELECT typeof(num), num FROM ty_lite WHERE id = 1")" "text|12345678901234.123456"
	check "SQLite: floats are reals" eq "$(sqlite3 "$L" "SELECT typeof(f8), f8 = 0.1, f4 FROM ty_lite WHERE id = 1")" "real|1|1.5"
	check "SQLite: bytea is a blob" eq "$(sqlite3 "$L" "SELECT typeof(b), hex(b) FROM ty_lite WHERE id = 1")" "blob|00FF10"
	check "SQLite: boolean is 1/0" eq "$(sqlite3 "$L" "SELECT bo FROM ty_lite WHERE id IN (1, 3) ORDER BY id" | tr '\n' ,)" "1,0,"
	check "SQLite: Unicode text" eq "$(sqlite3 "$L" "SELECT t FROM ty_lite WHERE id = 1")" "héllo ✓ 𝄞 日本"
	check "SQLite: timestamptz in UTC" eq "$(sqlite3 "$L" "SELECT tz FROM ty_lite WHERE id = 1")" "2024-02-29 10:34:56.789+00"
	check "SQLite: NULLs stay NULL" eq "$(sqlite3 "$L" "SELECT count(*) FROM ty_lite WHERE id = 2 AND coalesce(i2, i4, i8, num, f4, f8, t, vc, b, bo, d, tm, ts, tz) IS NULL")" 1
	check "SQLite->PG runs" nf run lp --follow
	check "PG->SQLite->PG: same rows" eq "$(diffrows ty_src ty_back)" 0
	check "PG->SQLite->PG: same types" eq "$(q "$COLTYPES 'ty_back'::regclass")" "$(q "$COLTYPES 'ty_src'::regclass")"
	end
}

t_copy_big() {
	begin "sql_copy: 1,000,000 rows PG->PG and PG->SQLite, progress shown"
	sql_env big </dev/null
	q "CREATE TABLE big AS SELECT g AS id, g % 1000 AS k, md5(g::text) AS s FROM generate_series(1, 1000000) g"
	copy_job big 'batch_size = 200000' 'source = { pool = "pg", table = "big" }' 'target = { pool = "pg", table = "big_copy" }'
	copy_job bigl 'batch_size = 250000' 'source = { pool = "pg", query = "SELECT id, k FROM big WHERE id <= 300000" }' 'target = { pool = "lite", table = "big" }'
	start_daemon || { T_OK=0; end; return; }
	nf run big --follow > "$D/follow" 2>&1
	check "copy succeeded" eq "$(att "$(last_run big)" state)" succeeded
	check "all rows, same content" eq "$(q "SELECT count(*), sum(id), sum(k) FROM big_copy")" "1000000|500000500000|499500000"
	check "progress lines in logs -f" contains "$(cat "$D/follow")" "progress: 200000 rows"
	out=$(nfj run show "$(last_run big)" | jq -c '.attempts[0].output | [.rows_read, .rows_written, .mode]')
	check "output: rows read/written" eq "$out" '[1000000,1000000,"overwrite"]'
	check "PG->SQLite runs" nf run bigl --follow
	check "SQLite has the rows" eq "$(sqlite3 "$D/lite.db" "SELECT count(*), sum(id) FROM big")" "300000|45000150000"
	end
}

# A source that streams 50,000 rows, then stalls for 3 s.
SLOW_SRC='source = { pool = "pg", query = "SELECT g AS id, repeat(chr(120), 100) AS s FROM generate_series(1, 60000) g WHERE g < 50000 OR pg_sleep(3) IS NOT NULL" }'
stalled() { q "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %SELECT g AS id%' AND wait_event = 'PgSleep'" | grep -qvx 0; }
pg_as() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

t_copy_interrupt() {
	begin "sql_copy overwrite interrupted (worker killed, server stopped) leaves the target intact"
	sql_env intr </dev/null
	q "CREATE TABLE tgt (id int, s text); INSERT INTO tgt VALUES (1, 'a'), (2, 'b'), (3, 'c')"
	sqlite3 "$D/lite.db" "CREATE TABLE tgt (id INTEGER, s TEXT); INSERT INTO tgt VALUES (1, 'a'), (2, 'b'), (3, 'c')"
	copy_job kp "$SLOW_SRC" 'target = { pool = "pg", table = "tgt" }'
	copy_job kl "$SLOW_SRC" 'target = { pool = "lite", table = "tgt" }'
	start_daemon || { T_OK=0; end; return; }
	for j in kp kl; do
		id=$(nfj run $j | jq -r .run_id)
		check "$j: copy is mid-stream" wait_for 10 stalled
		w=$(pgrep -P "$DPID" -f nomaflow-worker)
		check "$j: worker found" test -n "$w"
		kill -KILL $w
		check "$j: run ends" wait_run "$id"
		check "$j: run failed" eq "$(nfj run show "$id" | jq -r .state)" failed
		# The orphaned source backend finishes its sleep.
		wait_for 10 eval '! stalled'
	done
	check "PG target intact" eq "$(q "SELECT string_agg(id || s, ',' ORDER BY id) FROM tgt")" "1a,2b,3c"
	check "PG: no leftover table" eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'tgt%'")" 1
	check "SQLite target intact" eq "$(sqlite3 "$D/lite.db" "SELECT group_concat(id || s, ',') FROM (SELECT * FROM tgt ORDER BY id)")" "1a,2b,3c"
	check "SQLite: no leftover table" eq "$(sqlite3 "$D/lite.db" "SELECT count(*) FROM sqlite_master WHERE name LIKE 'tgt%'")" 1
	# The server goes away in the middle of the copy.
	id=$(nfj run kp | jq -r .run_id)
	check "copy is mid-stream again" wait_for 10 stalled
	check "run show has the live progress" test "$(nfj run show "$id" | jq -r '.progress.rows // 0')" -ge 10000
	# The restarted server must not inherit the TAP descriptor (fd 3), or
	# the test driver would wait for it to close.
	pg_as "$NF_PG_BIN/pg_ctl" -D "$NF_PG_DIR/data" -m fast -w -t 30 restart \
	    </dev/null >/dev/null 2>&1 3>&-
	check "run ends" wait_run "$id"
	err=$(att "$id" error)
	check "step failed with the server's reason" contains "$err" "terminating connection due to administrator command"
	check "server is back" wait_for 10 q "SELECT 1"
	check "PG target intact after the server stop" eq "$(q "SELECT string_agg(id || s, ',' ORDER BY id) FROM tgt")" "1a,2b,3c"
	check "PG: still no leftover table" eq "$(q "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'tgt%'")" 1
	end
}

t_copy_modes() {
	begin "sql_copy append and upsert (PG and SQLite targets), columns, rename, coercions, refusals"
	sql_env modes </dev/null
	q "CREATE TABLE src (id int, name text, amount numeric(10,2), note text);
	INSERT INTO src VALUES (2, '  Bee ', 20.75, ''), (3, 'Cee', 3.5, NULL);
	CREATE TABLE up (id int PRIMARY KEY, who text, amount bigint, note text);
	INSERT INTO up VALUES (1, 'a', 1, 'x'), (2, 'b', 2, 'y');
	CREATE TABLE app (id int, who text)"
	sqlite3 "$D/lite.db" "CREATE TABLE up (id INTEGER PRIMARY KEY, who TEXT, amount INTEGER, note TEXT);
	INSERT INTO up VALUES (1, 'a', 1, 'x'), (2, 'b', 2, 'y')"
	opts='rename = { name = "who" }
trim_strings = true
empty_to_null = true
decimal = "truncate"
mode = "upsert"
key = ["id"]'
	copy_job upg 'source = { pool = "pg", table = "src" }' 'target = { pool = "pg", table = "up" }' "$opts"
	copy_job ulite 'source = { pool = "pg", table = "src" }' 'target = { pool = "lite", table = "up" }' "$opts"
	copy_job app 'source = { pool = "pg", table = "src" }' 'target = { pool = "pg", table = "app" }' \
	    'mode = "append"' 'columns = ["id", "name"]' 'rename = { name = "who" }' 'null_to_default = true'
	copy_job self 'source = { pool = "pg", table = "src" }' 'target = { pool = "pg2", table = "src" }'
	copy_job l2l 'source = { pool = "lite", query = "SELECT id, who FROM up WHERE id < 3;" }' 'target = { pool = "lite", table = "up2" }'
	copy_job nocol 'source = { pool = "pg", table = "src" }' 'target = { pool = "pg", table = "app" }' 'mode = "append"'
	start_daemon || { T_OK=0; end; return; }
	check "PG upsert runs" nf run upg --follow
	check "PG upsert: updated 2, inserted 3, kept 1" eq \
	    "$(q "SELECT string_agg(concat_ws(':', id, who, amount, coalesce(note, 'NULL')), ',' ORDER BY id) FROM up")" \
	    "1:a:1:x,2:Bee:20:NULL,3:Cee:3:NULL"
	check "PG upsert: rows written" eq "$(att "$(last_run upg)" output.rows_written)" 2
	check "SQLite upsert runs" nf run ulite --follow
	check "SQLite upsert: updated 2, inserted 3, kept 1" eq \
	    "$(sqlite3 "$D/lite.db" "SELECT group_concat(id || ':' || who || ':' || amount || ':' || coalesce(note, 'NULL'), ',') FROM (SELECT * FROM up ORDER BY id)")" \
	    "1:a:1:x,2:Bee:20:NULL,3:Cee:3:NULL"
	check "append runs" nf run app --follow
	check "append twice" nf run app --follow
	check "append: selected, renamed columns" eq "$(q "SELECT string_agg(id || who, ',' ORDER BY id, who) FROM app")" "2  Bee ,2  Bee ,3Cee,3Cee"
	check "SQLite->SQLite (same file) runs" nf run l2l --follow
	check "SQLite->SQLite copied" eq "$(sqlite3 "$D/lite.db" "SELECT group_concat(id || who) FROM (SELECT * FROM up2 ORDER BY id)")" "1a,2Bee"
	nf run self --follow >/dev/null 2>&1
	check "copy onto itself refused" contains "$(att "$(last_run self)" error)" "sql_copy refused"
	nf run nocol --follow >/dev/null 2>&1
	check "missing target column named" contains "$(att "$(last_run nocol)" error)" 'target table app has no column "name"'
	end
}

t_dry_run() {
	begin "dry_run executes, reports and rolls back (sql_query and sql_copy)"
	sql_env dry </dev/null
	q "CREATE TABLE d1 (id int); INSERT INTO d1 VALUES (1), (2), (3); CREATE TABLE d2 (id int)"
	job del '[[jobs.steps]]' 'name = "del"' 'type = "sql_query"' 'pool = "pg"' 'dry_run = true' \
	    'sql = "DELETE FROM d1 WHERE id > 1"'
	job lite '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "lite"' 'script = true' \
	    'sql = "CREATE TABLE x (a); INSERT INTO x VALUES (1)"'
	copy_job cp 'source = { pool = "pg", table = "d1" }' 'target = { pool = "pg", table = "d2" }'
	start_daemon || { T_OK=0; end; return; }
	check "dry run succeeds" nf run del --follow
	id=$(last_run del)
	check "reports the rows it would delete" eq "$(att "$id" output.rows_affected)" 2
	check "output says dry_run" eq "$(att "$id" output.dry_run)" true
	check "nothing deleted" eq "$(q "SELECT count(*) FROM d1")" 3
	check "run param dry_run on SQLite" nf run lite --follow -p dry_run=true
	check "SQLite: nothing created" eq "$(sqlite3 "$D/lite.db" "SELECT count(*) FROM sqlite_master")" 0
	check "copy dry run" nf run cp --follow -p dry_run=true
	check "copy dry run: would write 3" eq "$(att "$(last_run cp)" output.rows_written)" 3
	check "copy dry run: target unchanged" eq "$(q "SELECT count(*) FROM d2")" 0
	end
}

t_errors() {
	begin "clear step errors: unknown pool, wrong password, server down, bad source"
	sql_env errs <<EOT

[pools.badpw]
driver = "postgres"
conninfo = "host=127.0.0.1 port=$PGPORT dbname=$PGDB user=$PGUSER password=wrong"

[pools.down]
driver = "postgres"
conninfo = "host=127.0.0.1 port=1 dbname=$PGDB user=$PGUSER connect_timeout=3"
EOT
	job pw '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "badpw"' 'sql = "SELECT 1"'
	job dn '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "down"' 'sql = "SELECT 1"'
	copy_job nosrc 'source = { pool = "pg", table = "no_such" }' 'target = { pool = "lite", table = "t" }'
	cp "$D/nomaflow.toml" "$D/bad.toml"
	mkdir -p "$D/badjobs"
	printf '[[jobs]]\nid = "u"\n[[jobs.steps]]\nname = "s"\ntype = "sql_copy"\nsource = { pool = "nope", table = "a" }\ntarget = { pool = "pg", table = "b" }\n' > "$D/badjobs/u.toml"
	sed -i 's|^jobs_dir = .*|jobs_dir = "badjobs"|' "$D/bad.toml"
	out=$("$NOMAFLOWD" -n -f "$D/bad.toml" 2>&1)
	check "unknown pool refused at load" contains "$out" 'source: no pool named "nope"'
	start_daemon || { T_OK=0; end; return; }
	nf run pw --follow >/dev/null 2>&1
	check "wrong password" contains "$(att "$(last_run pw)" error)" "password authentication failed"
	nf run dn --follow >/dev/null 2>&1
	err=$(att "$(last_run dn)" error)
	check "server down: cannot connect" contains "$err" "pool down"
	check "server down: refused" contains "$err" "Connection refused"
	nf run nosrc --follow >/dev/null 2>&1
	check "missing source table" contains "$(att "$(last_run nosrc)" error)" 'relation "no_such" does not exist'
	# nfctl pool test: a trivial query in a worker, outside any run.
	out=$(nf pool test pg 2>&1); rc=$?
	check "pool test pg succeeds" eq "$rc" 0
	check "pool test names the driver" contains "$out" "pool pg (postgres): ok"
	out=$(nf pool test badpw 2>&1); rc=$?
	check "pool test with a wrong password exits 1" eq "$rc" 1
	check "pool test says why" contains "$out" "password authentication failed"
	out=$(nf pool test down 2>&1); rc=$?
	check "pool test of a down server exits 1" eq "$rc" 1
	check "pool test: connection refused" contains "$out" "Connection refused"
	nf pool test nosuch >/dev/null 2>&1; rc=$?
	check "pool test of an unknown pool exits 2" eq "$rc" 2
	check "pool tests leave no run behind" eq "$(nfj runs --limit 1000 | jq -r '[.[] | select(.job_id == "pool-test")] | length')" 0
	end
}

t_cancel_sandbox() {
	begin "timeout cancels the statement on the server; the worker runs under seccomp"
	sql_env cancel </dev/null
	job slow '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "pg"' \
	    'timeout_seconds = 6' 'sql = "SELECT pg_sleep(30) AS nf_cancel_me"'
	start_daemon || { T_OK=0; end; return; }
	id=$(nfj run slow | jq -r .run_id)
	check "worker started" wait_for 5 pgrep -P "$DPID" -f nomaflow-worker
	w=$(pgrep -P "$DPID" -f nomaflow-worker)
	check "worker is under seccomp (Seccomp: 2)" wait_for 5 grep -Eq '^Seccomp:[[:space:]]+2$' "/proc/$w/status"
	# One session watches for the statement (connections are slow under load).
	seen=$(psql -qAtX -c "DO \$\$ DECLARE n int; BEGIN
	    FOR i IN 1..100 LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT count(*) INTO n FROM pg_stat_activity
		    WHERE query LIKE '%AS nf_cancel' || '_me' AND state = 'active';
		EXIT WHEN n > 0;
		PERFORM pg_sleep(0.05);
	    END LOOP;
	    RAISE NOTICE 'seen=%', n; END \$\$" 2>&1 | sed -n 's/.*seen=//p')
	check "query running on the server" eq "$seen" 1
	check "run ends" wait_run "$id" 15
	check "timed out" eq "$(nfj run show "$id" | jq -r '.attempts[0].reason')" timeout
	check "log says the server canceled it" contains "$(nf logs "$id" 2>&1)" "stopped on the server by a cancel request"
	check "statement gone from the server" wait_for 15 sh -c "! psql -qAtX -c \"SELECT 1 FROM pg_stat_activity WHERE query LIKE '%AS nf_cancel_me' AND state = 'active' AND pid <> pg_backend_pid()\" | grep -q 1"
	end
}

t_pool_limit() {
	begin "pool max_concurrent: further steps wait, visibly, in the queue"
	sql_env limit </dev/null
	for j in a b c; do
		job $j '[[jobs.steps]]' 'name = "s"' 'type = "sql_query"' 'pool = "pg2"' \
		    'sql = "SELECT pg_sleep(0.7) AS nf_limit_probe"'
	done
	start_daemon || { T_OK=0; end; return; }
	ids=
	for j in a b c; do ids="$ids $(nfj run $j | jq -r .run_id)"; done
	# Sample the server's sessions for 2 s, in one session.
	max=$(psql -qAtX -c "DO \$\$ DECLARE m int := 0; n int; BEGIN
	    FOR i IN 1..40 LOOP
		PERFORM pg_stat_clear_snapshot();
		SELECT count(*) INTO n FROM pg_stat_activity
		    WHERE query LIKE '%AS nf_limit_' || 'probe' AND pid <> pg_backend_pid();
		m := greatest(m, n);
		PERFORM pg_sleep(0.05);
	    END LOOP;
	    RAISE NOTICE 'max=%', m; END \$\$" 2>&1 | sed -n 's/.*max=//p')
	for id in $ids; do check "run $id ends" wait_run "$id"; done
	for id in $ids; do check "run $id succeeded" eq "$(nfj run show "$id" | jq -r .state)" succeeded; done
	check "never more than 1 on the pool" eq "$max" 1
	check "queueing is logged" contains "$(for id in $ids; do nf logs "$id"; done 2>&1)" "queued: pool pg2 is at max_concurrent = 1"
	end
}

ALL="t_pool_limit t_pg_query t_copy_types t_copy_big t_copy_interrupt t_copy_modes t_dry_run t_errors t_cancel_sandbox"
for t in ${*:-$ALL}; do
	$t
done
echo "1..$T_NUM"
