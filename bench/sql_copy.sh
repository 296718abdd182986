#!/bin/sh
# sql_copy.sh: sql_copy throughput and worker memory against baselines
# measured in the same run (see bench/RESULTS.md, "sql_copy").
#
#   BUILD=/path/to/build bench/sql_copy.sh
#
# Needs a PostgreSQL: the PG* variables of the environment, else the one
# tests/services/pg-up.sh starts (and this script stops).  Knobs: ROWS
# (1000000), ROUNDS (3; the best round of each side is reported).
# Measures, on a ROWS-row, 10-column table:
#   1. PG->PG sql_copy (mode overwrite), wall time of `nfctl run --follow`,
#      against psql "\copy (SELECT ...) to stdout" | psql "\copy t from
#      stdin"; ratio = baseline time / sql_copy time (goal >= 0.8);
#   2. PG->SQLite sql_copy rows/s;
#   3. the worker's peak RSS (VmHWM) during each copy (goal <= 64 MiB).
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:?set BUILD to a configured build directory}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
make -s -C "$BUILD" nomaflowd nomaflow-worker nomaflow-worker-sql nomaflow-worker-sqlite nfctl >/dev/null

tmp=$(mktemp -d /tmp/nfbench-sql.XXXXXX)
started_pg=
dpid=
cleanup() {
	[ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
	[ -n "$started_pg" ] && "$src/tests/services/pg-down.sh"
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
if [ -z "${PGPORT:-}" ]; then
	eval "$("$src/tests/services/pg-up.sh")"
	started_pg=1
fi
db=nf_bench_$$
psql -qAtX -c "CREATE DATABASE $db" >/dev/null
export PGDATABASE=$db
q() { psql -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
q "CREATE TABLE src AS SELECT g::bigint AS id, (g % 1000)::int AS a,
    (g * 7 % 100000)::int AS b, (g % 100000)::numeric(12,2) / 100 AS c,
    g * 0.5::float8 AS d, md5(g::text) AS e, 'name ' || g AS f,
    date '2020-01-01' + (g % 1000) AS g, timestamptz '2020-01-01 00:00+00' +
    g * interval '1 second' AS h, g % 2 = 0 AS i
    FROM generate_series(1, $ROWS) g"
q "VACUUM ANALYZE src"

mkdir -p "$tmp/jobs.d" "$tmp/state"
cat > "$tmp/nomaflow.toml" <<EOT
state_dir = "$tmp/state"
policies_dir = "$src/policies"
jobs_dir = "$tmp/jobs.d"
log_level = "warn"

[pools.pg]
driver = "postgres"
conninfo = "host=$PGHOST port=$PGPORT dbname=$db user=$PGUSER password=$PGPASSWORD"

[pools.lite]
driver = "sqlite"
path = "$tmp/lite.db"
EOT
cat > "$tmp/jobs.d/copy.toml" <<EOT
[[jobs]]
id = "pg2pg"
[[jobs.steps]]
name = "copy"
type = "sql_copy"
batch_size = 100000
source = { pool = "pg", table = "src" }
target = { pool = "pg", table = "dst_nf" }

[[jobs]]
id = "pg2lite"
[[jobs.steps]]
name = "copy"
type = "sql_copy"
batch_size = 100000
source = { pool = "pg", table = "src" }
target = { pool = "lite", table = "dst" }
EOT
"$BUILD/nomaflowd" -d -f "$tmp/nomaflow.toml" >"$tmp/daemon.log" 2>&1 &
dpid=$!
sock=$tmp/state/nomaflowd.sock
for i in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done

now() { date +%s%N; }
# Run job $1, echo "wall_ms peak_rss_kib".
nfrun() {
	t0=$(now)
	"$BUILD/nfctl" -s "$sock" run "$1" --follow >"$tmp/follow" 2>&1 &
	cpid=$!
	hwm=0
	while kill -0 "$cpid" 2>/dev/null; do
		for w in $(pgrep -P "$dpid" -f nomaflow-worker || true); do
			h=$(awk '/^VmHWM/ {print $2}' "/proc/$w/status" 2>/dev/null || echo 0)
			[ "${h:-0}" -gt "$hwm" ] && hwm=$h
		done
		sleep 0.02
	done
	wait "$cpid" || { cat "$tmp/follow" >&2; exit 1; }
	echo "$(( ($(now) - t0) / 1000000 )) $hwm"
}

best_base=0; best_nf=0; best_lite=0; rss=0
for r in $(seq "$ROUNDS"); do
	q "DROP TABLE IF EXISTS dst_base; CREATE TABLE dst_base (LIKE src)"
	t0=$(now)
	psql -qAtX -c "\\copy (SELECT * FROM src) to stdout" |
	    psql -qAtX -c "\\copy dst_base from stdin"
	base=$(( ($(now) - t0) / 1000000 ))
	set -- $(nfrun pg2pg); nf=$1; [ "$2" -gt "$rss" ] && rss=$2
	set -- $(nfrun pg2lite); lite=$1; [ "$2" -gt "$rss" ] && rss=$2
	[ "$(q "SELECT count(*) FROM dst_nf")" = "$ROWS" ] || { echo "dst_nf: wrong row count" >&2; exit 1; }
	echo "round $r: baseline psql|psql ${base} ms, sql_copy PG->PG ${nf} ms, PG->SQLite ${lite} ms"
	if [ "$best_base" -eq 0 ] || [ "$base" -lt "$best_base" ]; then best_base=$base; fi
	if [ "$best_nf" -eq 0 ] || [ "$nf" -lt "$best_nf" ]; then best_nf=$nf; fi
	if [ "$best_lite" -eq 0 ] || [ "$lite" -lt "$best_lite" ]; then best_lite=$lite; fi
done
q "SELECT 1" >/dev/null
echo "rows: $ROWS, 10 columns; best of $ROUNDS rounds"
echo "baseline (psql copy out | psql copy in): ${best_base} ms ($(( ROWS * 1000 / best_base )) rows/s)"
echo "sql_copy PG->PG: ${best_nf} ms ($(( ROWS * 1000 / best_nf )) rows/s), ratio to baseline: $(awk "BEGIN { printf \"%.2f\", $best_base / $best_nf }") (goal >= 0.8)"
echo "sql_copy PG->SQLite: ${best_lite} ms ($(( ROWS * 1000 / best_lite )) rows/s)"
echo "worker peak RSS: $(( rss / 1024 )) MiB (${rss} KiB; goal <= 64 MiB)"
PGDATABASE=postgres psql -qAtX -c "DROP DATABASE $db WITH (FORCE)" >/dev/null 2>&1 || true
