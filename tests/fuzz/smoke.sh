#!/bin/sh
# smoke.sh: build every libFuzzer target tests/fuzz/fuzz_*.c and run each
# for a short while on a copy of its seed corpus; prints TAP.
#
# Each target's first line names the sources it links:
#   /* NF_FUZZ_SOURCES: common/frame.c common/msg.c ... */
# and an optional second line the build-time defines those sources need:
#   /* NF_FUZZ_CFLAGS: -DNF_POLICYDIR="/nonexistent" */
# and its seeds live in tests/fuzz/corpus/<name without "fuzz_">/.
#
# Environment:
#   top_srcdir, top_builddir  set by "make check" (default: . and $(pwd))
#   FUZZ_SECONDS              run time per target (default 10)
#
# Long run (before a release, or after touching a parser), from the top of
# a build tree:
#   FUZZ_SECONDS=3600 top_srcdir=/path/to/src tests/fuzz/smoke.sh
# New inputs found stay in $top_builddir/tests/fuzz/run-<target>/corpus;
# copy the interesting ones into tests/fuzz/corpus/<name>/ by hand.  A crash
# leaves its input as $top_builddir/tests/fuzz/run-<target>/crash-*;
# reproduce with: $top_builddir/tests/fuzz/<target> <crash file>
#
# The source tree is only read: binaries, logs and the working corpus all
# go under $top_builddir/tests/fuzz/.

top_srcdir=${top_srcdir:-.}
top_builddir=${top_builddir:-$(pwd)}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}

if ! command -v clang >/dev/null 2>&1; then
	echo "1..0 # SKIP clang not installed"
	exit 0
fi

targets=
for f in "$top_srcdir"/tests/fuzz/fuzz_*.c; do
	[ -f "$f" ] && targets="$targets $f"
done
if [ -z "$targets" ]; then
	echo "1..0 # SKIP no fuzz targets under $top_srcdir/tests/fuzz"
	exit 0
fi

outdir=$top_builddir/tests/fuzz
if ! mkdir -p "$outdir"; then
	echo "1..0 # SKIP cannot create $outdir"
	exit 0
fi

libs=$(pkg-config --cflags --libs msgpack libseccomp jansson 2>/dev/null)

# Print the last lines of a log as TAP comments.
tail_log() {
	tail -n "${2:-20}" "$1" | sed 's/^/# /'
}

set -- $targets
echo "1..$#"
n=0
failed=0
for src in "$@"; do
	n=$((n + 1))
	name=$(basename "$src" .c)
	bin=$outdir/$name
	log=$outdir/$name.log
	work=$outdir/run-$name
	corpus=$top_srcdir/tests/fuzz/corpus/${name#fuzz_}

	srcs=$(sed -n \
	    '1s|^/\* *NF_FUZZ_SOURCES: *\(.*[^ ]\) *\*/.*$|\1|p' "$src")
	if [ -z "$srcs" ]; then
		echo "not ok $n - $name: first line has no NF_FUZZ_SOURCES"
		failed=$((failed + 1))
		continue
	fi
	# An optional second line: /* NF_FUZZ_CFLAGS: -DNAME="value" ... */
	defs=$(sed -n \
	    '2s|^/\* *NF_FUZZ_CFLAGS: *\(.*[^ ]\) *\*/.*$|\1|p' "$src")
	paths=
	for s in $srcs; do
		paths="$paths $top_srcdir/$s"
	done

	# shellcheck disable=SC2086 # word splitting of the lists is wanted
	if ! clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -I"$top_srcdir/common" -I"$top_srcdir/supervisor" -I"$top_srcdir/worker" \
	    -I"$top_builddir" $defs -o "$bin" "$src" $paths $libs -lm \
	    >"$log" 2>&1; then
		echo "not ok $n - $name: build failed (log: $log)"
		tail_log "$log"
		failed=$((failed + 1))
		continue
	fi

	# Work on a copy: libFuzzer adds new inputs to its corpus directory.
	rm -rf "$work"
	mkdir -p "$work/corpus"
	if [ -d "$corpus" ]; then
		for c in "$corpus"/*; do
			[ -f "$c" ] && cp "$c" "$work/corpus/"
		done
	fi

	# halt_on_error: undefined behaviour is a failure, not a warning.
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
	    "$bin" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work/corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' \
	    "$log" | tail -n 1)
	crash=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* \
	    "$work"/oom-* 2>/dev/null | head -n 1)
	if [ "$rc" -ne 0 ] || [ -n "$crash" ]; then
		echo "not ok $n - $name: crashed (exit $rc) on" \
		    "${crash:-an unsaved input}; log: $log"
		tail_log "$log" 30
		failed=$((failed + 1))
		continue
	fi
	echo "ok $n - $name (${runs:-?} runs)"
done

[ "$failed" -eq 0 ]
