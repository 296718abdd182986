#!/bin/sh
# bench/python_step.sh: what a python step costs over an exec step.
#
# Runs a real nomaflowd from a configured build and times, per step attempt
# (the store's started_at -> finished_at), N runs of each of:
#   exec     /bin/true                          (baseline: worker + fork/exec)
#   bare     exec of /usr/bin/python3 -I -c pass (the interpreter alone)
#   python   a python step whose function returns None (interpreter +
#            runner + import of the plugin + the result round trip)
# and prints medians and the ratios python/exec and python/bare.  Shared,
# noisy machines: compare the ratios, not the milliseconds.
#
# Usage: BUILD=/path/to/configured/build /path/to/src/bench/python_step.sh
# Environment: BUILD (default: the current directory), N (default 30),
# KEEP=1 keeps the temporary directory.  Needs jq.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$(pwd)}
N=${N:-30}
T=$(mktemp -d /tmp/nomaflow-pybench.XXXXXX)
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ "${KEEP:-0}" = 1 ] || rm -rf "$T"
}
trap cleanup EXIT

mkdir -p "$T/jobs.d" "$T/plugins/pybench"
: > "$T/plugins/pybench/__init__.py"
printf 'def nothing():\n    return None\n' > "$T/plugins/pybench/steps.py"
cat > "$T/nomaflow.toml" <<EOT
state_dir = "state"
policies_dir = "$SRC/policies"
jobs_dir = "jobs.d"
python = "/usr/bin/python3"
plugins_dir = "plugins"
log_level = "warn"
EOT
cat > "$T/jobs.d/bench.toml" <<'EOT'
[[jobs]]
id = "exec"
[[jobs.steps]]
name = "s"
type = "exec"
argv = ["/bin/true"]

[[jobs]]
id = "bare"
[[jobs.steps]]
name = "s"
type = "exec"
argv = ["/usr/bin/python3", "-I", "-c", "pass"]

[[jobs]]
id = "python"
[[jobs.steps]]
name = "s"
type = "python"
callable = "pybench.steps:nothing"
EOT

NOMAFLOW_PYTHON_RUNNER=$SRC/python/nomaflow_runner.py
export NOMAFLOW_PYTHON_RUNNER
"$BUILD/nomaflowd" -d -f "$T/nomaflow.toml" > "$T/daemon.log" 2>&1 &
DPID=$!
SOCK=$T/state/nomaflowd.sock
i=0
until "$BUILD/nfctl" -s "$SOCK" status >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat "$T/daemon.log"; exit 1; }
	sleep 0.05
done

# median_ms JOB: run it N times, one after the other; median attempt time.
median_ms() {
	k=0
	while [ $k -lt "$N" ]; do
		"$BUILD/nfctl" -s "$SOCK" run "$1" --follow >/dev/null 2>&1 || {
			echo "run of $1 failed" >&2; exit 1; }
		k=$((k + 1))
	done
	"$BUILD/nfctl" -s "$SOCK" --json runs --job "$1" --limit "$N" |
	    jq -r '.[].id' | while read -r id; do
		"$BUILD/nfctl" -s "$SOCK" --json run show "$id" |
		    jq -r '.attempts[0] | .finished_at - .started_at'
	done | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

e=$(median_ms exec)
b=$(median_ms bare)
p=$(median_ms python)
echo "step attempt, median of $N (ms): exec /bin/true $e, exec python3 -I -c pass $b, python step $p"
awk -v e="$e" -v b="$b" -v p="$p" 'BEGIN {
	printf "python step / exec step: %.2f\n", p / (e > 0 ? e : 1)
	printf "python step / bare interpreter: %.2f\n", p / (b > 0 ? b : 1)
}'
