#!/bin/sh
# test.sh: install what the tests need, build, run the whole suite
# ("make check": unit tests, the TOML conformance suite, fuzz smoke runs
# and the real-daemon integration tests) and print "N passed, N failed".
set -u
cd "$(dirname "$0")/.."
top=$(pwd)
scripts/deps.sh --test || exit 1
./autogen.sh >/dev/null 2>&1 || { echo "autogen failed"; exit 1; }
rm -rf build-test
mkdir build-test
cd build-test
../configure -q || exit 1
make -s -j"$(nproc)" >make.log 2>&1 || { tail -50 make.log; exit 1; }
make -s -j"$(nproc)" check >check.log 2>&1
grep -E '^(PASS|FAIL|ERROR|XPASS|XFAIL|SKIP):' check.log | grep -v '^PASS' | head -100
# Per-case counts from the TAP results of every test program.
passed=$(cat $(find tests -name '*.trs') | grep -c '^:test-result: PASS')
failed=$(cat $(find tests -name '*.trs') | grep -c -E '^:test-result: (FAIL|ERROR|XPASS)')
skipped=$(cat $(find tests -name '*.trs') | grep -c '^:test-result: SKIP')
if [ "$failed" -gt 0 ]; then
	for f in $(grep -l -E '^:test-result: (FAIL|ERROR)' $(find tests -name '*.trs')); do
		echo "== ${f%.trs}.log"
		grep -E '^(not ok|#)' "${f%.trs}.log" | head -40
	done
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
