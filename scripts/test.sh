#!/bin/sh
# test.sh: install what the tests need, build, start the test services, run
# the whole suite and print "N passed, N failed".
#
#   1. build-test/: the normal (sandboxed) build; "make check" runs the unit
#      tests, the TOML conformance suite, fuzz smoke runs of every parser
#      (ASan+UBSan) and the real-daemon integration tests;
#   2. build-san/: --enable-sanitizers --disable-sandbox; the unit tests and
#      the core integration tests again under ASan+UBSan (workers cannot run
#      under seccomp with ASan, so these run unsandboxed).
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/deps.sh --test || exit 1
./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; exit 1; }

# Test services (tests/services/<name>-up.sh prints "export VAR=..." lines;
# <name>-down.sh stops it).  Stopped whatever happens.
services="pg http"
started=""
cleanup() {
	for s in $started; do "$top/tests/services/$s-down.sh" >/dev/null 2>&1; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for s in $services; do
	[ -x "$top/tests/services/$s-up.sh" ] || continue
	env=$("$top/tests/services/$s-up.sh") || { echo "$s-up.sh failed"; exit 1; }
	eval "$env"
	started="$started $s"
done

rm -rf build-test build-san
mkdir build-test build-san
# Fault points cost nothing unless NOMAFLOW_FAULT arms one; the crash
# harness (tests/crash/crash.sh) needs them.
(cd build-test && ../configure -q --enable-fault-injection) || exit 1
(cd build-test && make -s -j"$(nproc)" >make.log 2>&1) ||
    { tail -50 build-test/make.log; exit 1; }
(cd build-test && make -s -j"$(nproc)" check >check.log 2>&1)

(cd build-san && ../configure -q --enable-sanitizers --disable-sandbox) || exit 1
(cd build-san && make -s -j"$(nproc)" >make.log 2>&1) ||
    { tail -50 build-san/make.log; exit 1; }
# check_policy loads real seccomp filters: not under ASan.
san_tests=$(cd build-san && make -s -f Makefile -f - print-tests <<'MK' 2>/dev/null
print-tests: ; @echo $(filter tests/unit/check_%,$(filter-out tests/unit/check_policy,$(TESTS))) tests/integration/run.sh tests/integration/flow.sh
MK
)
(cd build-san && NF_UNSANDBOXED=1 make -s -j"$(nproc)" check TESTS="$san_tests" >check.log 2>&1)

for b in build-test build-san; do
	grep -E '^(FAIL|ERROR|XPASS):' "$b/check.log" | sed "s|^|$b: |" | head -50
done
# Per-case counts from the TAP results of every test program.
trs=$(find build-test/tests build-san/tests -name '*.trs')
passed=$(cat $trs | grep -c '^:test-result: PASS')
failed=$(cat $trs | grep -c -E '^:test-result: (FAIL|ERROR|XPASS)')
skipped=$(cat $trs | grep -c '^:test-result: SKIP')
if [ "$failed" -gt 0 ]; then
	for f in $(grep -l -E '^:test-result: (FAIL|ERROR|XPASS)' $trs); do
		echo "== ${f%.trs}.log"
		grep -E '^(not ok|#)' "${f%.trs}.log" | head -40
	done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
